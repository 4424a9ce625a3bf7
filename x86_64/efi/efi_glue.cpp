#include "efi_glue.h"

namespace charon::efi {

constinit Console g_con;

namespace {

SIMPLE_TEXT_OUTPUT_INTERFACE* g_conout;

// OutputString takes UCS-2; one line at a time keeps the calls few.
struct LineBuf {
  CHAR16 buf[160];
  int n;
};
constinit LineBuf g_line{};

void flush() {
  if (!g_conout || g_line.n == 0) return;
  g_line.buf[g_line.n] = 0;
  g_conout->OutputString(g_conout, g_line.buf);
  g_line.n = 0;
}

void put(void*, char c) {
  g_line.buf[g_line.n++] = static_cast<CHAR16>(static_cast<uint8_t>(c));
  if (c == '\n' || g_line.n == static_cast<int>(sizeof g_line.buf / sizeof g_line.buf[0]) - 1)
    flush();
}

}  // namespace

void console_init(EFI_SYSTEM_TABLE* st) {
  g_conout = st->ConOut;
  g_con.clear();
  g_con.add(Sink{put, nullptr});
}

EFI_STATUS alloc_pages(uint64_t bytes, uint64_t max_end, Pages& out) {
  const UINTN pages = (bytes + 4095) / 4096;
  EFI_PHYSICAL_ADDRESS addr = max_end ? max_end - 1 : 0;
  const EFI_STATUS st = BS->AllocatePages(max_end ? AllocateMaxAddress : AllocateAnyPages,
                                          EfiLoaderData, pages ? pages : 1, &addr);
  if (EFI_ERROR(st)) return st;
  out = {reinterpret_cast<uint8_t*>(addr), (pages ? pages : 1) * 4096};
  return EFI_SUCCESS;
}

EFI_STATUS alloc_pages_at(uint64_t addr, uint64_t bytes) {
  EFI_PHYSICAL_ADDRESS a = addr;
  return BS->AllocatePages(AllocateAddress, EfiLoaderData, (bytes + 4095) / 4096, &a);
}

EFI_STATUS read_file(EFI_HANDLE image, const char* path, Pages& out, uint64_t& size) {
  EFI_LOADED_IMAGE* li = nullptr;
  EFI_STATUS st = BS->HandleProtocol(image, &LoadedImageProtocol, reinterpret_cast<void**>(&li));
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: no LoadedImage protocol on our own image (status 0x%lx)\n", st);
    return st;
  }
  EFI_SIMPLE_FILE_SYSTEM_PROTOCOL* fs = nullptr;
  st = BS->HandleProtocol(li->DeviceHandle, &FileSystemProtocol, reinterpret_cast<void**>(&fs));
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: the volume we were started from has no file system (status 0x%lx)\n",
                 st);
    return st;
  }
  EFI_FILE_HANDLE root = nullptr, f = nullptr;
  st = fs->OpenVolume(fs, &root);
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: cannot open the boot volume (status 0x%lx)\n", st);
    return st;
  }
  CHAR16 wpath[260];
  size_t i = 0;
  for (; path[i] && i + 1 < sizeof wpath / sizeof wpath[0]; ++i)
    wpath[i] = path[i] == '/' ? L'\\' : static_cast<CHAR16>(static_cast<uint8_t>(path[i]));
  wpath[i] = 0;
  st = root->Open(root, &f, wpath, EFI_FILE_MODE_READ, 0);
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: cannot open %s: %s (status 0x%lx)\n", path,
                 st == EFI_NOT_FOUND ? "no such file" : "open failed", st);
    root->Close(root);
    return st;
  }
  // EFI_FILE_INFO ends with the file name: room for a long one.
  alignas(8) uint8_t info_buf[SIZE_OF_EFI_FILE_INFO + 512];
  UINTN info_size = sizeof info_buf;
  st = f->GetInfo(f, &GenericFileInfo, &info_size, info_buf);
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: cannot stat %s (status 0x%lx)\n", path, st);
  } else if (reinterpret_cast<EFI_FILE_INFO*>(info_buf)->Attribute & EFI_FILE_DIRECTORY) {
    g_con.printf("charon.efi: %s is a directory\n", path);
    st = EFI_INVALID_PARAMETER;
  } else {
    size = reinterpret_cast<EFI_FILE_INFO*>(info_buf)->FileSize;
    st = alloc_pages(size ? size : 1, 0, out);
    if (EFI_ERROR(st)) {
      g_con.printf("charon.efi: no memory for %s (%lu bytes, status 0x%lx)\n", path, size, st);
    } else {
      UINTN got = size;
      st = f->Read(f, &got, out.ptr);
      if (!EFI_ERROR(st) && got != size) st = EFI_END_OF_FILE;
      if (EFI_ERROR(st)) {
        g_con.printf("charon.efi: cannot read %s (%lu of %lu bytes, status 0x%lx)\n", path,
                     static_cast<uint64_t>(got), size, st);
        BS->FreePages(reinterpret_cast<EFI_PHYSICAL_ADDRESS>(out.ptr), out.bytes / 4096);
      }
    }
  }
  f->Close(f);
  root->Close(root);
  return st;
}

EFI_STATUS get_memory_map(MapBuffer& mb, UINTN& need) {
  UINTN size = mb.cap, desc_size = 0;
  UINT32 version = 0;
  const EFI_STATUS st = BS->GetMemoryMap(&size, reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(mb.buf),
                                         &mb.key, &desc_size, &version);
  if (st == EFI_BUFFER_TOO_SMALL) need = size;
  if (EFI_ERROR(st)) return st;
  mb.map = {mb.buf, size, desc_size};
  mb.desc_version = version;
  return EFI_SUCCESS;
}

uint64_t find_rsdp(EFI_SYSTEM_TABLE* st) {
  // [uefi/2.10]: 4.6 EFI_ACPI_20_TABLE_GUID before EFI_ACPI_TABLE_GUID
  // (ACPI 1.0): a 2.0 RSDP has the XSDT the kernel prefers.
  EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
  uint64_t v1 = 0;
  for (UINTN i = 0; i < st->NumberOfTableEntries; ++i) {
    EFI_CONFIGURATION_TABLE& t = st->ConfigurationTable[i];
    if (CompareGuid(&t.VendorGuid, &acpi20) == 0) return reinterpret_cast<uint64_t>(t.VendorTable);
    if (CompareGuid(&t.VendorGuid, &acpi10) == 0) v1 = reinterpret_cast<uint64_t>(t.VendorTable);
  }
  return v1;
}

bool efi_random(uint8_t* out, size_t len) {
  EFI_GUID guid = EFI_RNG_PROTOCOL_GUID;
  EFI_RNG_PROTOCOL* rng = nullptr;
  if (EFI_ERROR(BS->LocateProtocol(&guid, nullptr, reinterpret_cast<void**>(&rng))) || !rng)
    return false;
  return !EFI_ERROR(rng->GetRNG(rng, nullptr, len, out));
}

uint8_t secure_boot_state() {
  constexpr uint8_t kUnknown = 1, kDisabled = 2, kEnabled = 3;  // enum efi_secureboot_mode
  EFI_GUID global = EFI_GLOBAL_VARIABLE;
  auto read_u8 = [&](const wchar_t* name, uint8_t& out) {
    UINTN size = sizeof out;
    return RT->GetVariable(reinterpret_cast<CHAR16*>(const_cast<wchar_t*>(name)), &global, nullptr,
                           &size, &out);
  };
  uint8_t secure = 0, setup = 0;
  EFI_STATUS st = read_u8(L"SecureBoot", secure);
  if (st == EFI_NOT_FOUND) return kDisabled;
  if (EFI_ERROR(st)) return kUnknown;
  if (secure == 0) return kDisabled;
  st = read_u8(L"SetupMode", setup);
  if (EFI_ERROR(st)) return kUnknown;
  return setup == 1 ? kDisabled : kEnabled;
}

}  // namespace charon::efi
