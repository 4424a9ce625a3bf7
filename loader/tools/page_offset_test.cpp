// page-offset on synthetic /proc/kcore and /proc/kallsyms files laid out as
// fs/proc/kcore.c and kallsyms present them: it must print the base when
// the variable and the program headers agree, and refuse each broken part
// with its own message.
#include "page_offset.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "../testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kBase = 0xffff8d4700000000ull;  // a KASLR'd direct map
constexpr uint64_t kText = 0xffffffff9a000000ull;  // where the kernel text is mapped
constexpr uint64_t kTextPhys = 0x1c000000;
constexpr uint64_t kVarOff = 0x1234568;  // page_offset_base, inside the text PT_LOAD
constexpr uint64_t kNoPaddr = ~uint64_t{0};

struct Kcore {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  uint64_t value = kBase;  // what page_offset_base holds
  std::string kallsyms;

  Kcore() {
    eh = testing::core_header();
    auto load = [](uint64_t vaddr, uint64_t paddr, uint64_t size, uint64_t off) {
      Elf64_Phdr p{};
      p.p_type = PT_LOAD;
      p.p_flags = PF_R | PF_W | PF_X;
      p.p_vaddr = vaddr;
      p.p_paddr = paddr;
      p.p_filesz = p.p_memsz = size;
      p.p_offset = off;
      return p;
    };
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = 0x1000;
    // As on a 6.1 guest: kernel text, a vmalloc area, RAM from page 1 and
    // from 1 MiB, vmemmap. Only the text PT_LOAD has bytes in the file
    // (the rest lie past its end, as kcore's would not be read).
    ph = {note,
          load(kText, kTextPhys, 0x2000000, 0x2000),
          load(0xffffc90000000000ull, kNoPaddr, 0x1000000000ull, 0x100000000ull),
          load(kBase + 0x1000, 0x1000, 0x9e000, 0x200000000ull),
          load(kBase + 0x100000, 0x100000, 0x3ff00000, 0x300000000ull),
          load(0xffffea0000000000ull, kNoPaddr, 0x1000000, 0x400000000ull)};
    kallsyms = "ffffffff9a000000 T _text\n";
  }

  void var_at(uint64_t addr) {
    char line[80];
    std::snprintf(line, sizeof line, "%016llx D page_offset_base\n",
                  static_cast<unsigned long long>(addr));
    kallsyms += line;
  }

  std::vector<uint8_t> bytes() {
    eh.e_phnum = static_cast<Elf64_Half>(ph.size());
    std::vector<uint8_t> out(0x2000 + kVarOff + 0x1000, 0);
    std::memcpy(out.data(), &eh, sizeof(eh));
    std::memcpy(out.data() + sizeof(eh), ph.data(),
                std::min(ph.size() * sizeof(Elf64_Phdr), size_t{0x1000 - sizeof(eh)}));
    std::memcpy(out.data() + 0x2000 + kVarOff, &value, sizeof(value));
    return out;
  }
};

using ToolRun = testing::ToolRun;

class PageOffset : public ::testing::Test {
 protected:
  ToolRun run(std::vector<std::string> args) {
    return testing::run_tool("page-offset", std::move(args), page_offset_main);
  }
  ToolRun run(Kcore& k) {
    testing::write_bytes(tmp_.path() / "kcore", k.bytes());
    testing::write_file(tmp_.path() / "kallsyms", k.kallsyms);
    return run({"--kcore=" + (tmp_.path() / "kcore").string(),
                "--kallsyms=" + (tmp_.path() / "kallsyms").string()});
  }
  testing::TempDir tmp_;
};

TEST_F(PageOffset, PrintsTheBaseWhenVariableAndHeadersAgree) {
  Kcore k;
  k.var_at(kText + kVarOff);
  const ToolRun r = run(k);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "KDUMP-PAGE-OFFSET=ffff8d4700000000");
  EXPECT_NE(r.out.find("2 direct-map PT_LOAD(s) in kcore, the lowest at p_paddr 0x1000"),
            std::string::npos)
      << r.out;
}

TEST_F(PageOffset, TheVariableMustMatchTheHeaders) {
  Kcore k;
  k.var_at(kText + kVarOff);
  k.value = 0xffff888000000000ull;
  const ToolRun r = run(k);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("page_offset_base holds 0xffff888000000000, but kcore's direct map gives "
                       "0xffff8d4700000000"),
            std::string::npos)
      << r.err;
}

TEST_F(PageOffset, EveryDirectMapHeaderMustGiveTheSameBase) {
  Kcore k;
  k.var_at(kText + kVarOff);
  k.ph[4].p_vaddr += 0x40000000;
  const ToolRun r = run(k);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("(p_paddr 0x100000) gives 0xffff8d4740000000, the lowest gives "
                       "0xffff8d4700000000"),
            std::string::npos)
      << r.err;
}

TEST_F(PageOffset, HiddenMissingOrUnmappedSymbolFails) {
  Kcore k;
  k.var_at(0);
  ToolRun r = run(k);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("hides page_offset_base's address"), std::string::npos) << r.err;

  Kcore none;
  r = run(none);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("has no symbol page_offset_base"), std::string::npos) << r.err;

  Kcore far;
  far.var_at(0xffffffffc0000000ull);
  r = run(far);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no PT_LOAD in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("maps page_offset_base at 0xffffffffc0000000"), std::string::npos) << r.err;
}

TEST_F(PageOffset, NoDirectMapHeaderFails) {
  Kcore k;
  k.var_at(kText + kVarOff);
  k.ph.erase(k.ph.begin() + 3, k.ph.begin() + 5);
  const ToolRun r = run(k);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("has no direct-map PT_LOAD"), std::string::npos) << r.err;
}

TEST_F(PageOffset, ReadsPastTheEndOrNotACoreFail) {
  Kcore k;
  k.var_at(kText + kVarOff);
  k.ph[1].p_offset = 0x100000000ull;  // the variable's bytes lie past the end
  ToolRun r = run(k);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("page_offset_base at 0x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lies past the end"), std::string::npos) << r.err;

  Kcore bad;
  bad.var_at(kText + kVarOff);
  bad.eh.e_type = ET_EXEC;
  r = run(bad);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is not an ELF64 x86_64 core"), std::string::npos) << r.err;

  r = run({"--kcore=" + (tmp_.path() / "missing").string(),
           "--kallsyms=" + (tmp_.path() / "missing").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}

TEST_F(PageOffset, UsageErrors) {
  EXPECT_EQ(run({"--kcore="}).status, 2);
  EXPECT_EQ(run({"/proc/kcore"}).status, 2);
}

}  // namespace
}  // namespace charon::loader
