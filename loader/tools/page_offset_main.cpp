#include "page_offset.h"

int main(int argc, char** argv) {
  return charon::loader::page_offset_main(argc, argv, stdout, stderr);
}
