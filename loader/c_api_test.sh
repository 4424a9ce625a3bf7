#!/bin/sh
# The C API from C: build/loader/c_api_smoke (loader/testdata/c_api_smoke.c,
# C99, linked with libcharon-loader.a) must refuse a missing kernel with a
# message and size page tables.
out=$(build/loader/c_api_smoke 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "refused with \".*kernel"; then
  echo "PASS: c-api-from-c-refuses-a-missing-kernel-with-a-message ($out)"
else
  echo "FAIL: c-api-from-c-refuses-a-missing-kernel-with-a-message ($out)"
  exit 1
fi
