// The ia64 control block: relocate_new_kernel, kexec_fake_sal_rendez and
// ia64_dump_cpu_regs, all code, all in the first 4096 bytes (the linker
// script checks). Unlike Linux (arch/ia64/kernel/relocate_kernel.S), the
// block carries no stacks: the caller passes the memory stack and the
// register backing store as pages of their own, so that a hypervisor may
// hand the block over in pages that are not physically contiguous.
//
// Kept to a small instruction subset on purpose: ia64/interp executes this
// exact machine code in the host tests and refuses anything it does not
// know. Citations: [ia64/vol2] and [ia64/vol3] are volumes 2 (system) and
// 3 (instruction set) of the Intel Itanium Architecture Software
// Developer Manual, revision 2.3.

#include <ia64/control_abi.h>

	.text

// Purges what the old kernel left in the TLB, in physical mode: the
// translation cache with the PAL_PTCE_INFO loop ([ia64/vol3] ptc.e: count0
// outer steps of stride0, each of count1 inner steps of stride1; counts of
// zero purge nothing), then the pinned translation registers: kernel text
// and data, PAL code (one granule at the virtual address its ITR was
// inserted at), and the stack granule. ptr takes the log2 size in bits
// 7:2 of its size operand ([ia64/vol3] ptr). Every purge is serialized
// with srlz.i before anything relies on it, as Linux does. Clobbers r2,
// r16-r25 and the predicates p6/p7.
	.macro PURGE_TRANSLATIONS block, pal
	adds r2=0,\block
	;;
	ld8 r18=[r2],8
	;;
	ld8 r19=[r2],8
	;;
	ld8 r20=[r2],8
	;;
	ld8 r21=[r2],8
	;;
	ld8 r22=[r2],8
	mov r24=r0
	;;
.Lptce_outer\@:
	cmp.ltu p6,p7=r24,r19
	mov r25=r0
	;;
(p7)	br.cond.dpnt.few .Lptce_done\@
	;;
.Lptce_inner\@:
	cmp.ltu p6,p7=r25,r20
	;;
(p7)	br.cond.dpnt.few .Lptce_next\@
	;;
	ptc.e r18
	add r18=r18,r22
	adds r25=1,r25
	br.cond.sptk.few .Lptce_inner\@
	;;
.Lptce_next\@:
	add r18=r18,r21
	adds r24=1,r24
	br.cond.sptk.few .Lptce_outer\@
	;;
.Lptce_done\@:
	srlz.i
	;;
	ld8 r16=[r2],8
	;;
	ld8 r17=[r2],8
	;;
	dep.z r17=r17,2,6
	;;
	ptr.i r16,r17
	ptr.d r16,r17
	;;
	srlz.i
	;;
	ld8 r17=[r2],8
	;;
	dep.z r17=r17,2,6
	ld8 r16=[r2],8
	;;
	ptr.i \pal,r17
	;;
	ptr.d r16,r17
	;;
	srlz.i
	;;
	.endm

// The physical address of a direct-mapped virtual one: clear bits 60-63.
// Linux maps physical memory at 0xe000..., Xen-ia64 at 0xf000... (its
// __pa clears bits 60-63); no processor implements physical address bits
// 60-62 ([ia64/vol2] Physical Addressing: at most bits 0-62, and
// PAL_VM_SUMMARY reports 50 on Itanium 2), and bit 63 is only the
// uncacheable attribute, so clearing all four is safe for a physical
// argument too.
	.macro TO_PHYSICAL dst, src
	dep \dst=0,\src,60,4
	.endm

// PSR for physical mode, as SAL hands it to an OS entry point (Linux
// asm/sal.h SAL_PSR_BITS_TO_SET has ac and bn): ac catches unaligned
// accesses, bn=1 keeps the same bank of r16-r31; ic, i, dt, rt and it 0.
	.macro PHYSICAL_PSR dst
	adds \dst=(1 << IA64_PSR_AC_BIT),r0
	;;
	dep \dst=-1,\dst,IA64_PSR_BN_BIT,1
	;;
	.endm

// relocate_new_kernel(in0 head, in1 start, in2 boot_param, in3 pal_va,
//                     in4 memory_stack_top, in5 backing_store_base,
//                     in6 purge_block, in7 page_size)
// Entered in virtual mode on a direct map (Linux's region 7 at 0xe000...,
// or Xen-ia64's at 0xf000...), never returns. in3 is the virtual address
// the PAL code's ITR was inserted at (Linux: GRANULEROUNDDOWN of
// efi_get_pal_addr(), a region 7 address): ptr.i of a physical one would
// purge nothing. Every other address argument is physical (region bits,
// if any, are cleared).
//
// relocate_new_kernel_physical: the same arguments, for a caller that is
// already in physical mode and has purged the TLB itself, as Xen-ia64's
// relocate_new_kernel does (xen/arch/ia64/xen/relocate_kernel.S in Xen's
// history) before it branches into the control page. in3 and in6 are not
// used; nothing is purged.
	.align 32
	.global relocate_new_kernel
	.proc relocate_new_kernel
relocate_new_kernel:
	// Interrupts and interruption collection off first, so that nothing
	// below can be interrupted half way ([ia64/vol3] rsm); the srlz.i
	// makes psr.ic=0 take effect. r2 = this bundle, the base for
	// everything position independent.
{ .mmi
	alloc r31=ar.pfs,8,0,0,0
	rsm (1 << IA64_PSR_I_BIT) | (1 << IA64_PSR_IC_BIT)
	mov r2=ip
	;;
}
	// flushrs must be the first instruction of its group ([ia64/vol3]).
	flushrs
	;;
	srlz.i
	;;
	adds r3=.Lpurge-relocate_new_kernel,r2
	br.cond.sptk.few .Lswitch_stacks
	;;

	.align 32
	.global relocate_new_kernel_physical
relocate_new_kernel_physical:
{ .mmi
	alloc r31=ar.pfs,8,0,0,0
	rsm (1 << IA64_PSR_I_BIT) | (1 << IA64_PSR_IC_BIT)
	mov r2=ip
	;;
}
	flushrs
	;;
	srlz.i
	;;
	adds r3=.Lwalk-relocate_new_kernel_physical,r2
	;;
.Lswitch_stacks:
	// r3: where rfi continues, physical. Enforced lazy mode, so that the
	// RSE touches no memory on its own while the backing store moves and
	// psr.rt changes ([ia64/vol2] Register Stack Engine, RSE modes).
	TO_PHYSICAL r3, r3
	mov ar.rsc=0
	;;
	adds sp=-IA64_STACK_SCRATCH,in4
	mov r18=ar.rnat
	;;
	// Writing ar.bspstore leaves ar.rnat undefined ([ia64/vol3] mov ar),
	// so carry it across.
	mov ar.bspstore=in5
	;;
	mov ar.rnat=r18
	PHYSICAL_PSR r16
	mov cr.ipsr=r16
	mov cr.iip=r3
	// A stale cr.ifs with its valid bit set would make rfi restore a frame
	// from the new backing store, below its base.
	mov cr.ifs=r0
	;;
	srlz.i
	;;
	rfi
	;;
.Lpurge:
	PURGE_TRANSLATIONS in6, in3
.Lwalk:
	mov b6=in1
	TO_PHYSICAL r28, in2
	// Walk the indirection list exactly as Linux writes it
	// (kernel/kexec_core.c): r30 = entry, r29 = next entry, r17 = next
	// destination, r26 = page offset mask, r27 = lines per page.
	adds r26=-1,in7
	shr.u r27=in7,5
	adds r30=0,in0
	;;
	br.cond.sptk.few .Lentry
	;;
.Lnext:
	ld8 r30=[r29],8
	;;
.Lentry:
	tbit.nz p6,p0=r30,0
	andcm r31=r30,r26
	;;
(p6)	adds r17=0,r31
(p6)	br.cond.sptk.few .Lnext
	;;
	tbit.nz p6,p0=r30,1
	;;
(p6)	adds r29=0,r31
(p6)	br.cond.sptk.few .Lnext
	;;
	tbit.nz p6,p0=r30,2
	;;
(p6)	br.cond.dpnt.few .Ldone
	;;
	// Anything that is not a source page is skipped, as in Linux.
	tbit.z p6,p0=r30,3
	;;
(p6)	br.cond.dpnt.few .Lnext
	;;
	// Copy one page, eight bytes at a time, one 32-byte line per pass:
	// r31/r9 read the even/odd words, r17/r10 write them, r11 is the
	// line to flush from the i-cache once its last word is stored.
	adds r9=8,r31
	adds r10=8,r17
	adds r11=0,r17
	adds r16=-1,r27
	;;
	mov ar.lc=r16
	;;
.Lcopy:
	ld8 r20=[r31],16
	ld8 r21=[r9],16
	;;
	ld8 r22=[r31],16
	ld8 r23=[r9],16
	;;
	st8 [r17]=r20,16
	st8 [r10]=r21,16
	;;
	st8 [r17]=r22,16
	st8 [r10]=r23,16
	;;
	fc.i r11
	adds r11=IA64_FC_STRIDE,r11
	br.cloop.sptk.few .Lcopy
	;;
	br.cond.sptk.few .Lnext
	;;
.Ldone:
	// fc.i and sync.i must be in separate groups; srlz.i then makes the
	// fetch stream see the new code ([ia64/vol3] sync).
	sync.i
	;;
	srlz.i
	;;
	// Data serialized too before the new kernel's first access, as Linux
	// ends relocate_new_kernel.
	srlz.d
	;;
	br.sptk.many b6
	;;
	.global relocate_new_kernel_end
relocate_new_kernel_end:
	.endp relocate_new_kernel

// kexec_fake_sal_rendez(in0 ap_start, in1 gp, in2 wakeup_vector,
//                       in3 pal_va, in4 purge_block)
// Each other CPU waits here, in physical mode with interrupts masked, for
// the new kernel to wake it the way SAL would: with an IPI on the AP
// wakeup vector, which the new kernel finds in the SAL system table's AP
// wakeup descriptor (entry type 5, SAL specification 3.2.5) and raises
// through the processor interrupt block. in0 is the new kernel's AP start
// (its physical entry), in1 its gp. Before waiting, the CPU purges its own
// TLB (in4: a purge block as for relocate_new_kernel, naming this CPU's
// stack granule; in3 the PAL ITR's virtual address), so that the new
// kernel's translation register inserts overlap nothing ([ia64/vol2]
// Translation Registers: overlapping inserts raise a machine check).
	.align 32
	.global kexec_fake_sal_rendez
	.proc kexec_fake_sal_rendez
kexec_fake_sal_rendez:
{ .mmi
	alloc r31=ar.pfs,5,0,0,0
	rsm (1 << IA64_PSR_I_BIT) | (1 << IA64_PSR_IC_BIT)
	mov r2=ip
	;;
}
	flushrs
	;;
	srlz.i
	;;
	// Enforced lazy and flushed before psr.rt goes to 0: the backing store
	// is only mapped virtually.
	TO_PHYSICAL r2, r2
	mov ar.rsc=0
	;;
	adds r3=.Lrendez_physical-kexec_fake_sal_rendez,r2
	PHYSICAL_PSR r16
	mov cr.ipsr=r16
	mov cr.iip=r3
	mov cr.ifs=r0
	;;
	srlz.i
	;;
	rfi
	;;
.Lrendez_physical:
	PURGE_TRANSLATIONS in4, in3
	mov b6=in0
	adds gp=0,in1
	adds r9=15,r0		// the spurious vector ([ia64/vol2] cr.ivr)
	// Unmask every priority class (the old kernel may have raised TPR),
	// then end whatever was in service: cr.ivr only delivers a vector of a
	// higher class than every one in service ([ia64/vol2] External
	// Interrupt Control Registers). Each change is serialized (srlz.d)
	// before the next read of cr.ivr depends on it.
	mov cr.tpr=r0
	adds r16=IA64_RENDEZ_EOIS-1,r0
	;;
	srlz.d
	mov ar.lc=r16
	;;
.Lrendez_eoi:
	mov cr.eoi=r0
	;;
	srlz.d
	br.cloop.sptk.few .Lrendez_eoi
	;;
.Lrendez_wait:
	mov r8=cr.ivr
	;;
	srlz.d
	// A spurious read puts nothing in service, so it gets no EOI; every
	// real vector, the wakeup one included, is ended ([ia64/vol2] cr.eoi).
	cmp.eq p8,p9=r8,r9
	cmp.eq p6,p7=r8,in2
	;;
(p9)	mov cr.eoi=r0
	;;
	srlz.d
(p7)	br.cond.sptk.few .Lrendez_wait
	;;
	br.sptk.many b6
	;;
	.global kexec_fake_sal_rendez_end
kexec_fake_sal_rendez_end:
	.endp kexec_fake_sal_rendez

// ia64_dump_cpu_regs(in0 buffer): stores Linux's elf_gregset_t
// (control_abi.h, IA64_DUMP_*) for a crash dump: the caller's r1-r31,
// branch and predicate registers unchanged, its CFM (ar.pfs.pfm), and ar.bsp
// as Linux's does, so that crash.c's correction of dst[46] by CFM applies.
// psr is stored as 0, as Linux stores it. Registers r1-r31 are stored with
// st8.spill, which never faults on a NaT register (st8 would raise a
// Register NaT Consumption fault): a NaT register's word holds whatever
// value it had, and its bit in the NaT word (IA64_DUMP_NAT) is set.
	.align 32
	.global ia64_dump_cpu_regs
	.proc ia64_dump_cpu_regs
ia64_dump_cpu_regs:
	// r33 = ar.pfs, r34 = the caller's ar.unat (the spills change it),
	// r35 = the caller's ar.rsc, r36 = the buffer.
	alloc r33=ar.pfs,1,8,0,0
	;;
	mov r34=ar.unat
	mov r35=ar.rsc
	adds r36=0,r32
	;;
	// ar.bspstore and ar.rnat may only be read in enforced lazy mode
	// ([ia64/vol3] mov ar); flushrs, first in its group, writes the dirty
	// stacked registers of the caller's frames to the backing store, so
	// that they are in the dump's memory image.
	mov ar.rsc=0
	;;
	flushrs
	;;
	st8 [r32]=r0,8
	;;
	// r32 advances one word per store, so every store ends its group.
	.irp reg, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18, r19, r20, r21, r22, r23, r24, r25, r26, r27, r28, r29, r30, r31
	st8.spill [r32]=\reg,8
	;;
	.endr
	// Each spill put its NaT bit in ar.unat at bit (address >> 3) & 63
	// ([ia64/vol3] st8.spill): rotate right by the buffer's slot so that
	// bit N is rN's, keep r1-r31.
	mov r37=ar.unat
	extr.u r38=r36,3,6
	adds r39=64,r0
	;;
	sub r39=r39,r38
	shr.u r40=r37,r38
	;;
	shl r39=r37,r39
	;;
	or r40=r40,r39
	;;
	extr.u r40=r40,0,32
	;;
	dep r40=0,r40,0,1
	;;
	st8 [r32]=r40,8
	mov r37=pr
	;;
	st8 [r32]=r37,8
	;;
	.irp src, b0, b1, b2, b3, b4, b5, b6, b7
	mov r37=\src
	;;
	st8 [r32]=r37,8
	;;
	.endr
	// ip: the caller's return point, as Linux stores it; CFM: the
	// caller's frame, ar.pfs bits 37:0 ([ia64/vol1] ar.pfs).
	mov r37=b0
	;;
	st8 [r32]=r37,8
	extr.u r37=r33,0,38
	;;
	st8 [r32]=r37,8
	;;
	st8 [r32]=r0,8
	;;
	st8 [r32]=r35,8
	;;
	.irp src, ar.bsp, ar.bspstore, ar.rnat, ar.ccv
	mov r37=\src
	;;
	st8 [r32]=r37,8
	;;
	.endr
	st8 [r32]=r34,8
	;;
	.irp src, ar.fpsr, ar.pfs, ar.lc, ar.ec, ar.csd, ar.ssd
	mov r37=\src
	;;
	st8 [r32]=r37,8
	;;
	.endr
	mov ar.unat=r34
	mov ar.rsc=r35
	;;
	br.ret.sptk.many b0
	;;
	.global ia64_dump_cpu_regs_end
ia64_dump_cpu_regs_end:
	.endp ia64_dump_cpu_regs
