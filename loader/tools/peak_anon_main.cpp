#include "peak_anon.h"

int main(int argc, char** argv) {
  return charon::loader::peak_anon_main(argc, argv, stderr);
}
