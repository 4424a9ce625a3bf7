#include "vmcore_check.h"

int main(int argc, char** argv) {
  return charon::loader::vmcore_check_main(argc, argv, stdout, stderr);
}
