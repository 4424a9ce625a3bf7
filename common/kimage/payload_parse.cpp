// Recognizing and checking non-bzImage kernels: ELF program headers and
// the multiboot v1 and v2 headers. Every field is read with bounds
// checked; every rule names the specification section it comes from.
#include <charon/kimage/bzimage.h>
#include <charon/kimage/payload.h>

namespace charon::kimage {

namespace {

uint16_t rd16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t rd32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t rd64(const uint8_t* p) {
  return uint64_t{rd32(p)} | uint64_t{rd32(p + 4)} << 32;
}

constexpr uint64_t k4G = uint64_t{1} << 32;

// ---- ELF (gABI "ELF Header", "Program Header") ----------------------------
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2, kElfData2Lsb = 1;
constexpr uint16_t kEtExec = 2, kEm386 = 3, kEmX8664 = 62;
constexpr uint32_t kPtLoad = 1;

bool has_elf_magic(const uint8_t* f, size_t size) {
  return size >= 16 && f[0] == 0x7f && f[1] == 'E' && f[2] == 'L' && f[3] == 'F';
}

// Sorts by paddr and refuses overlaps; the entry must be loaded.
Status finish_segments(PayloadImage& out, bool below_4g) {
  for (size_t i = 1; i < out.nseg; ++i)
    for (size_t j = i; j > 0 && out.seg[j].paddr < out.seg[j - 1].paddr; --j) {
      const LoadSegment t = out.seg[j];
      out.seg[j] = out.seg[j - 1];
      out.seg[j - 1] = t;
    }
  for (size_t i = 0; i < out.nseg; ++i) {
    const LoadSegment& s = out.seg[i];
    if (s.paddr + s.memsz < s.paddr || (below_4g && s.paddr + s.memsz > k4G))
      return Status::kSegmentWraps;
    if (i > 0 && out.seg[i - 1].paddr + out.seg[i - 1].memsz > s.paddr)
      return Status::kSegmentsOverlap;
  }
  for (size_t i = 0; i < out.nseg; ++i)
    if (out.entry >= out.seg[i].paddr && out.entry < out.seg[i].paddr + out.seg[i].memsz)
      return Status::kOk;
  return Status::kEntryOutside;
}

Status add_segment(PayloadImage& out, size_t file_size, uint64_t offset, uint64_t filesz,
                   uint64_t paddr, uint64_t memsz) {
  if (memsz == 0) return Status::kOk;
  if (filesz > memsz) return Status::kSegmentFileszAboveMemsz;
  if (offset > file_size || filesz > file_size - offset) return Status::kSegmentPastEnd;
  if (out.nseg == kMaxLoadSegments) return Status::kElfTooManyLoads;
  out.seg[out.nseg++] = {offset, filesz, paddr, memsz};
  return Status::kOk;
}

// Either class; `want_class` 0 takes both (multiboot2 images).
Status parse_elf(const uint8_t* f, size_t size, uint8_t want_class, PayloadImage& out) {
  if (!has_elf_magic(f, size)) return Status::kNotThisType;
  const uint8_t cls = f[4];
  if ((cls != kElfClass32 && cls != kElfClass64) || (want_class && cls != want_class))
    return Status::kNotThisType;
  const bool is64 = cls == kElfClass64;
  const size_t ehsize = is64 ? 64 : 52;
  if (size < ehsize) return Status::kElfTruncated;
  if (f[5] != kElfData2Lsb || f[6] != 1 || rd16(f + 16) != kEtExec) return Status::kElfBadHeader;
  if (rd16(f + 18) != (is64 ? kEmX8664 : kEm386)) return Status::kElfWrongMachine;
  const uint64_t entry = is64 ? rd64(f + 24) : rd32(f + 24);
  const uint64_t phoff = is64 ? rd64(f + 32) : rd32(f + 28);
  const uint16_t phentsize = rd16(f + (is64 ? 54 : 42));
  const uint16_t phnum = rd16(f + (is64 ? 56 : 44));
  if (phentsize != (is64 ? 56 : 32)) return Status::kElfBadHeader;
  if (phoff > size || uint64_t{phnum} * phentsize > size - phoff) return Status::kElfTruncated;
  out.nseg = 0;
  out.entry = entry;
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = f + phoff + uint64_t{i} * phentsize;
    if (rd32(ph) != kPtLoad) continue;
    const uint64_t offset = is64 ? rd64(ph + 8) : rd32(ph + 4);
    const uint64_t paddr = is64 ? rd64(ph + 24) : rd32(ph + 12);
    const uint64_t filesz = is64 ? rd64(ph + 32) : rd32(ph + 16);
    const uint64_t memsz = is64 ? rd64(ph + 40) : rd32(ph + 20);
    if (Status s = add_segment(out, size, offset, filesz, paddr, memsz); s != Status::kOk) return s;
  }
  if (out.nseg == 0) return Status::kElfNoLoad;
  return Status::kOk;
}

// gABI "Note Section": {namesz, descsz, type}, then the name and the
// descriptor, each padded to 4 bytes (x86 and x86-64 alike). True if a
// note of `notes[0, len)` is named `name` (with its NUL).
bool has_note_named(const uint8_t* notes, uint64_t len, const char* name, uint32_t name_len) {
  uint64_t off = 0;
  while (len - off >= 12) {
    const uint64_t namesz = rd32(notes + off), descsz = rd32(notes + off + 4);
    const uint64_t name_at = off + 12;
    const uint64_t next = name_at + ((namesz + 3) & ~uint64_t{3}) + ((descsz + 3) & ~uint64_t{3});
    if (next > len) return false;
    if (namesz == name_len) {
      bool same = true;
      for (uint32_t i = 0; i < name_len && same; ++i)
        same = notes[name_at + i] == static_cast<uint8_t>(name[i]);
      if (same) return true;
    }
    off = next;
  }
  return false;
}

// ---- multiboot v1 (3.1 "OS image format") ---------------------------------
constexpr uint32_t kMbMagic = 0x1badb002;
constexpr size_t kMbSearch = 8192;
constexpr uint32_t kMbPageAlign = 1u << 0, kMbMemInfo = 1u << 1, kMbVideo = 1u << 2,
                   kMbAoutKludge = 1u << 16;

// The header's offset, or size when there is none; with `checked`, only a
// header whose checksum holds counts (detection, as kexec-tools probes).
size_t find_mb1(const uint8_t* f, size_t size, bool checked = false) {
  for (size_t off = 0; off + 12 <= size && off + 12 <= kMbSearch; off += 4)
    if (rd32(f + off) == kMbMagic &&
        (!checked || rd32(f + off) + rd32(f + off + 4) + rd32(f + off + 8) == 0))
      return off;
  return size;
}

// The a.out kludge (v1 flag 16, v2 address tag): the file from the
// header's offset minus (header_addr - load_addr), up to load_end_addr (0:
// the end of the file), then zeros up to bss_end_addr (0: none).
Status kludge_segment(size_t size, size_t hdr_off, uint32_t header_addr, uint32_t load_addr,
                      uint32_t load_end, uint32_t bss_end, bool from_start, PayloadImage& out) {
  uint64_t offset = 0;
  if (from_start) {
    if (hdr_off > header_addr) return Status::kMbBadAddress;
    load_addr = header_addr - static_cast<uint32_t>(hdr_off);
  } else {
    if (load_addr > header_addr || header_addr - load_addr > hdr_off) return Status::kMbBadAddress;
    offset = hdr_off - (header_addr - load_addr);
  }
  const uint64_t filesz = load_end ? uint64_t{load_end} - load_addr : size - offset;
  if (load_end && load_end < load_addr) return Status::kMbBadAddress;
  if (offset + filesz > size) return Status::kMbBadAddress;
  const uint64_t end = bss_end ? uint64_t{bss_end} : uint64_t{load_addr} + filesz;
  if (end < uint64_t{load_addr} + filesz) return Status::kMbBadAddress;
  out.nseg = 0;
  return add_segment(out, size, offset, filesz, load_addr, end - load_addr);
}

Status parse_mb1(const uint8_t* f, size_t size, PayloadImage& out) {
  const size_t off = find_mb1(f, size);
  if (off == size) return Status::kNotThisType;
  const uint32_t flags = rd32(f + off + 4);
  if (rd32(f + off) + flags + rd32(f + off + 8) != 0) return Status::kMbBadChecksum;
  if (flags & kMbVideo) return Status::kMbVideoMode;
  if (flags & 0xffffu & ~(kMbPageAlign | kMbMemInfo)) return Status::kMbUnknownFlag;
  if (flags & kMbAoutKludge) {
    if (off + 32 > size) return Status::kMbBadAddress;
    const uint8_t* h = f + off;
    if (Status s = kludge_segment(size, off, rd32(h + 12), rd32(h + 16), rd32(h + 20), rd32(h + 24),
                                  false, out);
        s != Status::kOk)
      return s;
    out.entry = rd32(h + 28);
  } else if (Status s = parse_elf(f, size, kElfClass32, out); s != Status::kOk) {
    return s == Status::kNotThisType ? Status::kMbNotElf : s;
  }
  return finish_segments(out, true);
}

// ---- multiboot2 (3.1 "OS image format") -----------------------------------
constexpr uint32_t kMb2Magic = 0xe85250d6;
constexpr size_t kMb2Search = 32768;
constexpr uint16_t kTagEnd = 0, kTagInfoRequest = 1, kTagAddress = 2, kTagEntry = 3,
                   kTagConsole = 4, kTagModuleAlign = 6, kTagRelocatable = 10;
constexpr uint16_t kTagOptional = 1;

// The boot information charon gives (3.6): command line, boot loader
// name, modules, basic memory, memory map, ACPI old and new.
bool info_given(uint32_t type) {
  return type == 1 || type == 2 || type == 3 || type == 4 || type == 6 || type == 14 || type == 15;
}

size_t find_mb2(const uint8_t* f, size_t size, bool checked = false) {
  for (size_t off = 0; off + 16 <= size && off + 16 <= kMb2Search; off += 8)
    if (rd32(f + off) == kMb2Magic &&
        (!checked ||
         rd32(f + off) + rd32(f + off + 4) + rd32(f + off + 8) + rd32(f + off + 12) == 0))
      return off;
  return size;
}

Status parse_mb2(const uint8_t* f, size_t size, PayloadImage& out) {
  const size_t off = find_mb2(f, size);
  if (off == size) return Status::kNotThisType;
  const uint8_t* h = f + off;
  const uint32_t arch = rd32(h + 4), len = rd32(h + 8);
  if (rd32(h) + arch + len + rd32(h + 12) != 0) return Status::kMbBadChecksum;
  if (arch != 0 || len < 24 || len > size - off) return Status::kMb2BadTag;
  bool have_addr = false, have_entry = false;
  uint32_t addr[4] = {}, entry = 0;
  size_t t = 16;
  for (;;) {
    if (t + 8 > len) return Status::kMb2BadTag;
    const uint16_t type = rd16(h + t), tflags = rd16(h + t + 2);
    const uint32_t tsize = rd32(h + t + 4);
    if (tsize < 8 || tsize > len - t) return Status::kMb2BadTag;
    if (type == kTagEnd) break;
    const bool required = !(tflags & kTagOptional);
    switch (type) {
      case kTagInfoRequest:
        for (uint32_t i = 8; i + 4 <= tsize; i += 4)
          if (required && !info_given(rd32(h + t + i))) return Status::kMb2RequiredInfo;
        break;
      case kTagAddress:
        if (tsize < 24) return Status::kMb2BadTag;
        for (int i = 0; i < 4; ++i) addr[i] = rd32(h + t + 8 + 4 * i);
        have_addr = true;
        break;
      case kTagEntry:
        if (tsize < 12) return Status::kMb2BadTag;
        entry = rd32(h + t + 8);
        have_entry = true;
        break;
      case kTagConsole:      // no console of ours to describe
      case kTagModuleAlign:  // modules are page-aligned anyway
      case kTagRelocatable:  // loaded where it was linked, which it allows
        break;
      default:  // framebuffer, EFI boot services, EFI entries, unknown
        if (required) return Status::kMb2RequiredTag;
        break;
    }
    t += (tsize + 7) & ~size_t{7};
  }
  if (have_addr) {
    if (!have_entry) return Status::kMb2NoEntry;
    if (Status s = kludge_segment(size, off, addr[0], addr[1], addr[2], addr[3],
                                  addr[1] == 0xffffffffu, out);
        s != Status::kOk)
      return s;
    out.entry = entry;
  } else {
    if (Status s = parse_elf(f, size, 0, out); s != Status::kOk)
      return s == Status::kNotThisType ? Status::kMbNotElf : s;
    if (have_entry) out.entry = entry;
  }
  return finish_segments(out, true);
}

}  // namespace

bool is_linux_elf(const uint8_t* f, size_t size) {
  if (!has_elf_magic(f, size) || (f[4] != kElfClass32 && f[4] != kElfClass64)) return false;
  const bool is64 = f[4] == kElfClass64;
  if (size < (is64 ? 64u : 52u)) return false;
  const uint64_t phoff = is64 ? rd64(f + 32) : rd32(f + 28);
  const uint16_t phentsize = rd16(f + (is64 ? 54 : 42));
  const uint16_t phnum = rd16(f + (is64 ? 56 : 44));
  if (phentsize != (is64 ? 56 : 32)) return false;
  if (phoff > size || uint64_t{phnum} * phentsize > size - phoff) return false;
  constexpr uint32_t kPtNote = 4;
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = f + phoff + uint64_t{i} * phentsize;
    if (rd32(ph) != kPtNote) continue;
    const uint64_t offset = is64 ? rd64(ph + 8) : rd32(ph + 4);
    const uint64_t filesz = is64 ? rd64(ph + 32) : rd32(ph + 16);
    if (offset > size || filesz > size - offset) continue;
    if (has_note_named(f + offset, filesz, "Linux", 6)) return true;
  }
  return false;
}

const char* elf_args_name(ElfArgs a) {
  switch (a) {
    case ElfArgs::kElf:
      return "--args-elf";
    case ElfArgs::kLinux:
      return "--args-linux";
    case ElfArgs::kNone:
      return "--args-none";
  }
  return "?";
}

const char* payload_type_name(PayloadType t) {
  switch (t) {
    case PayloadType::kMultiboot2:
      return "multiboot2-x86";
    case PayloadType::kElf64:
      return "elf-x86_64";
    case PayloadType::kMultiboot:
      return "multiboot-x86";
    case PayloadType::kElf32:
      return "elf-x86";
    case PayloadType::kBzImage:
      return "bzImage64";
  }
  return "?";
}

bool payload_type_from_name(const char* name, PayloadType& out) {
  auto is = [name](const char* w) {
    size_t i = 0;
    for (; w[i] && name[i] == w[i]; ++i) {
    }
    return !w[i] && !name[i];
  };
  constexpr PayloadType kAll[] = {PayloadType::kMultiboot2, PayloadType::kElf64,
                                  PayloadType::kMultiboot, PayloadType::kElf32,
                                  PayloadType::kBzImage};
  for (PayloadType t : kAll)
    if (is(payload_type_name(t))) return out = t, true;
  if (is("bzImage")) return out = PayloadType::kBzImage, true;
  return false;
}

Status parse_payload(const uint8_t* file, size_t size, PayloadType type, PayloadImage& out) {
  out = {};
  out.type = type;
  switch (type) {
    case PayloadType::kMultiboot2:
      return parse_mb2(file, size, out);
    case PayloadType::kMultiboot:
      return parse_mb1(file, size, out);
    case PayloadType::kElf64:
    case PayloadType::kElf32: {
      const bool is64 = type == PayloadType::kElf64;
      if (Status s = parse_elf(file, size, is64 ? kElfClass64 : kElfClass32, out); s != Status::kOk)
        return s;
      return finish_segments(out, !is64);
    }
    case PayloadType::kBzImage: {
      BzImage k;
      const Status s = parse_bzimage(file, size, Entry::k64, k);
      return s == Status::kNoHdrS || s == Status::kTooShort ? Status::kNotThisType : Status::kOk;
    }
  }
  return Status::kNotThisType;
}

Status detect_payload(const uint8_t* file, size_t size, PayloadType& out) {
  // Only the marks (a multiboot header is its magic and checksum), not the
  // full checks: a damaged image of a known type then gets that type's own
  // error from parse_payload().
  if (find_mb2(file, size, true) != size) return out = PayloadType::kMultiboot2, Status::kOk;
  const bool elf = has_elf_magic(file, size);
  if (elf && file[4] == kElfClass64) return out = PayloadType::kElf64, Status::kOk;
  if (find_mb1(file, size, true) != size) return out = PayloadType::kMultiboot, Status::kOk;
  if (elf && file[4] == kElfClass32) return out = PayloadType::kElf32, Status::kOk;
  if (size >= 0x206 && rd32(file + 0x202) == 0x53726448)  // "HdrS"
    return out = PayloadType::kBzImage, Status::kOk;
  return Status::kNotAnImage;
}

}  // namespace charon::kimage
