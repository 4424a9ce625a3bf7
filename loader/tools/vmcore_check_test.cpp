// vmcore-check on synthetic cores laid out as fs/proc/vmcore.c presents
// them: it must accept a good one, copy out exactly the bytes of a
// physical range, and refuse each broken part with its own message.
#include "vmcore_check.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "../testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kLow = 640 * 1024;

void put_note(std::vector<uint8_t>& out, const char* name, uint32_t type,
              const std::vector<uint8_t>& desc) {
  Elf64_Nhdr nh{static_cast<Elf64_Word>(std::strlen(name) + 1),
                static_cast<Elf64_Word>(desc.size()), type};
  auto put = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
    out.resize((out.size() + 3) & ~size_t{3}, 0);
  };
  put(&nh, sizeof(nh));
  put(name, nh.n_namesz);
  put(desc.data(), desc.size());
}

// The parts of a core, each spoilable before it is serialised.
struct Core {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::vector<uint8_t> notes;
  std::vector<uint8_t> low, high;  // [0, 640 KiB) and [1 MiB, 1 MiB + 64 KiB)

  Core() {
    eh = testing::core_header();
    put_note(notes, "CORE", NT_PRSTATUS, std::vector<uint8_t>(336, 0x11));
    const std::string info = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";
    put_note(notes, "VMCOREINFO", 0, std::vector<uint8_t>(info.begin(), info.end()));
    low.resize(kLow);
    for (size_t i = 0; i < low.size(); ++i) low[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
    high.assign(64 * 1024, 0xab);
    Elf64_Phdr n{};
    n.p_type = PT_NOTE;
    Elf64_Phdr l{};
    l.p_type = PT_LOAD;
    l.p_paddr = 0;
    l.p_filesz = l.p_memsz = low.size();
    Elf64_Phdr h = l;
    h.p_paddr = 1 << 20;
    h.p_filesz = h.p_memsz = high.size();
    ph = {n, l, h};
  }

  // Notes at 0x1000, low memory at 0x2000, the rest after it.
  std::vector<uint8_t> bytes() {
    eh.e_phnum = static_cast<Elf64_Half>(ph.size());
    for (Elf64_Phdr& p : ph) {
      if (p.p_type == PT_NOTE && p.p_offset == 0) {
        p.p_offset = 0x1000;
        p.p_filesz = p.p_memsz = notes.size();
      }
    }
    if (ph.size() > 1 && ph[1].p_offset == 0) ph[1].p_offset = 0x2000;
    if (ph.size() > 2 && ph[2].p_offset == 0) ph[2].p_offset = 0x2000 + kLow;
    std::vector<uint8_t> out(0x2000 + kLow + high.size(), 0);
    std::memcpy(out.data(), &eh, sizeof(eh));
    std::memcpy(out.data() + sizeof(eh), ph.data(), ph.size() * sizeof(Elf64_Phdr));
    std::memcpy(out.data() + 0x1000, notes.data(), notes.size());
    std::memcpy(out.data() + 0x2000, low.data(), low.size());
    std::memcpy(out.data() + 0x2000 + kLow, high.data(), high.size());
    return out;
  }
};

using CheckRun = testing::ToolRun;

class VmcoreCheck : public ::testing::Test {
 protected:
  CheckRun run(std::vector<std::string> args) {
    return testing::run_tool("vmcore-check", std::move(args), vmcore_check_main);
  }
  std::string write(const std::vector<uint8_t>& b) {
    const auto p = tmp_.path() / "vmcore";
    testing::write_bytes(p, b);
    return p.string();
  }
  // The core with `spoil` applied fails, saying `text`.
  void expect_refused(const std::function<void(Core&)>& spoil, const std::string& text) {
    Core c;
    spoil(c);
    CheckRun r = run({write(c.bytes())});
    EXPECT_EQ(r.status, 1) << text;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("vmcore-check: OK"), std::string::npos);
  }
  testing::TempDir tmp_;
};

TEST_F(VmcoreCheck, AcceptsAGoodCoreAndNamesWhatItFound) {
  Core c;
  CheckRun r = run({write(c.bytes())});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("2 PT_LOAD, 1 PT_NOTE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 NT_PRSTATUS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("VMCOREINFO OSRELEASE=6.1.0-test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[0x0, 0xa0000) at file offset 0x2000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vmcore-check: OK"), std::string::npos) << r.out;
}

TEST_F(VmcoreCheck, ExtractCopiesExactlyThePhysicalBytes) {
  Core c;
  const std::string core = write(c.bytes());
  const std::string out = (tmp_.path() / "page").string();
  CheckRun r = run({"--extract=0x800,2048," + out, core});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(testing::read_bytes(out),
            std::vector<uint8_t>(c.low.begin() + 0x800, c.low.begin() + 0x1000));
  // From the second PT_LOAD: its own file offset, not the first one's.
  r = run({"--extract=0x100010,16," + out, core});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(testing::read_bytes(out), std::vector<uint8_t>(16, 0xab));
  // Not in any PT_LOAD (the hole, or running past a range's end).
  r = run({"--extract=0xa0000,16," + out, core});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no PT_LOAD holds [0xa0000, 0xa0010)"), std::string::npos) << r.err;
  r = run({"--extract=0x9fff0,32," + out, core});
  EXPECT_EQ(r.status, 1);
}

TEST_F(VmcoreCheck, RefusesAHeaderThatIsNotAnX86_64Core) {
  expect_refused([](Core& c) { c.eh.e_ident[0] = 0; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_ident[EI_CLASS] = ELFCLASS32; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_type = ET_EXEC; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_machine = EM_386; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_version = 0; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_phentsize = 32; }, "not an ELF64");
  expect_refused([](Core& c) { c.eh.e_phoff = 1ull << 40; }, "program headers");
}

TEST_F(VmcoreCheck, RefusesACoreWithoutVmcoreinfoOrRegisters) {
  expect_refused(
      [](Core& c) {
        c.notes.clear();
        put_note(c.notes, "CORE", NT_PRSTATUS, std::vector<uint8_t>(336, 1));
      },
      "no VMCOREINFO note");
  expect_refused(
      [](Core& c) {
        c.notes.clear();
        put_note(c.notes, "VMCOREINFO", 0, {'X', '=', '1', '\n'});
        put_note(c.notes, "CORE", NT_PRSTATUS, std::vector<uint8_t>(336, 1));
      },
      "no OSRELEASE= line");
  expect_refused(
      [](Core& c) {
        c.notes.clear();
        const std::string info = "OSRELEASE=6.1\n";
        put_note(c.notes, "VMCOREINFO", 0, std::vector<uint8_t>(info.begin(), info.end()));
      },
      "no NT_PRSTATUS note");
  expect_refused(
      [](Core& c) {
        Elf64_Nhdr nh{5, 1u << 20, NT_PRSTATUS};
        std::memcpy(c.notes.data(), &nh, sizeof(nh));
      },
      "runs past its PT_NOTE");
}

TEST_F(VmcoreCheck, RefusesACoreWithoutLowMemoryOrWithLoadsPastItsEnd) {
  expect_refused([](Core& c) { c.ph[1].p_paddr = 0x1000; }, "no PT_LOAD covers [0, 640 KiB)");
  expect_refused([](Core& c) { c.ph[1].p_filesz = 4096; }, "no PT_LOAD covers [0, 640 KiB)");
  expect_refused([](Core& c) { c.ph[2].p_filesz = 1ull << 30; }, "lies past the end");
  expect_refused([](Core& c) { c.ph.resize(1); }, "no PT_LOAD covers");
}

TEST_F(VmcoreCheck, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({}).status, 2);
  EXPECT_EQ(run({"--bogus", "x"}).status, 2);
  EXPECT_EQ(run({"--extract=0x800", "x"}).status, 2);
  EXPECT_EQ(run({"--extract=0x800,0,out", "x"}).status, 2);
  EXPECT_EQ(run({"--extract=0x800,16,", "x"}).status, 2);
  CheckRun r = run({(tmp_.path() / "missing").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace charon::loader
