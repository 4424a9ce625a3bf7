/* Proves the C API is C: this file is compiled as C99 with -Werror against
 * the installed headers and linked with libcharon-loader.a. Given a bad
 * kernel path it must fail with a message and hand back no image; the
 * page-table sizing must answer for one 4 GiB range. Exit 0 on success. */
#include <charon/loader.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  struct charon_load_options o;
  memset(&o, 0, sizeof o);
  o.kernel_path = "/nonexistent/bzImage";
  o.purgatory_path = "/nonexistent/purgatory.ro";
  struct charon_image* img = NULL;
  char err[256] = "";
  if (charon_image_build(&o, &img, err, sizeof err) != -1 || img != NULL || err[0] == 0) {
    fprintf(stderr, "c_api_smoke: a missing kernel was not refused (err '%s')\n", err);
    return 1;
  }
  struct charon_region r = {0, 4ull << 30};
  if (charon_idmap_bytes_needed(&r, 1) == 0) {
    fprintf(stderr, "c_api_smoke: no page-table bytes for [0, 4 GiB)\n");
    return 1;
  }
  printf("c_api_smoke: refused with \"%s\"\n", err);
  return 0;
}
