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

// relocate_new_kernel(in0 head, in1 start, in2 boot_param, in3 pal_base,
//                     in4 memory_stack_top, in5 backing_store_base,
//                     in6 purge_block, in7 page_size)
// Entered in virtual mode on region 7 (identity mapped, as Linux calls
// it), never returns. Every address argument is physical.
	.align 32
	.global relocate_new_kernel
	.proc relocate_new_kernel
relocate_new_kernel:
	// Interrupts and interruption collection off first, so that nothing
	// below can be interrupted half way ([ia64/vol3] rsm). r2 = this
	// bundle, the base for everything position independent.
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
	// Region bits off: the physical address of this code. Enforced lazy
	// mode, so that the RSE touches no memory on its own while the
	// backing store moves ([ia64/vol2] Register Stack Engine, RSE modes).
	dep r2=0,r2,61,3
	mov ar.rsc=0
	;;
	adds r3=.Lphysical-relocate_new_kernel,r2
	adds sp=-IA64_STACK_SCRATCH,in4
	mov r18=ar.rnat
	;;
	// Writing ar.bspstore leaves ar.rnat undefined ([ia64/vol3] mov ar),
	// so carry it across.
	mov ar.bspstore=in5
	;;
	mov ar.rnat=r18
	// PSR for physical mode: only ac and bn. ic, i, dt, rt and it stay 0.
	// bn=1 keeps the same bank of r16-r31.
	adds r16=(1 << IA64_PSR_AC_BIT),r0
	;;
	dep r16=-1,r16,IA64_PSR_BN_BIT,1
	;;
	mov cr.ipsr=r16
	mov cr.iip=r3
	mov cr.ifs=r0
	;;
	srlz.i
	;;
	rfi
	;;
.Lphysical:
	mov b6=in1
	dep r28=0,in2,61,3
	adds r2=0,in6
	;;
	// Purge the translation cache with the PAL_PTCE_INFO loop
	// ([ia64/vol3] ptc.e): count0 outer steps of stride0, each of count1
	// inner steps of stride1. Counts of zero purge nothing.
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
.Lptce_outer:
	cmp.ltu p6,p7=r24,r19
	mov r25=r0
	;;
(p7)	br.cond.dpnt.few .Lptce_done
	;;
.Lptce_inner:
	cmp.ltu p6,p7=r25,r20
	;;
(p7)	br.cond.dpnt.few .Lptce_next
	;;
	ptc.e r18
	add r18=r18,r22
	adds r25=1,r25
	br.cond.sptk.few .Lptce_inner
	;;
.Lptce_next:
	add r18=r18,r21
	adds r24=1,r24
	br.cond.sptk.few .Lptce_outer
	;;
.Lptce_done:
	srlz.i
	;;
	// Purge the translation registers: kernel text and data, PAL code
	// (one granule at pal_base), the stack granule. ptr takes the log2
	// size in bits 7:2 of its size operand ([ia64/vol3] ptr).
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
	ptr.i in3,r17
	;;
	ptr.d r16,r17
	;;
	srlz.i
	;;
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
	srlz.d
	;;
	br.sptk.many b6
	;;
	.global relocate_new_kernel_end
relocate_new_kernel_end:
	.endp relocate_new_kernel

// kexec_fake_sal_rendez(in0 rendez_entry, in1 gp, in2 wakeup_vector)
// The other CPUs wait here, in physical mode with interrupts masked, for
// the new kernel to wake them the way SAL would: with an IPI on the
// wakeup vector that it registered (SAL_MC_SET_PARAMS). Every vector read
// from cr.ivr is acknowledged; the wakeup vector sends the CPU to in0.
	.align 32
	.global kexec_fake_sal_rendez
	.proc kexec_fake_sal_rendez
kexec_fake_sal_rendez:
{ .mmi
	alloc r31=ar.pfs,3,0,0,0
	rsm (1 << IA64_PSR_I_BIT) | (1 << IA64_PSR_IC_BIT)
	mov r2=ip
	;;
}
	flushrs
	;;
	srlz.i
	;;
	dep r2=0,r2,61,3
	mov ar.rsc=0
	;;
	adds r3=.Lrendez_physical-kexec_fake_sal_rendez,r2
	adds r16=(1 << IA64_PSR_AC_BIT),r0
	;;
	dep r16=-1,r16,IA64_PSR_BN_BIT,1
	;;
	mov cr.ipsr=r16
	mov cr.iip=r3
	mov cr.ifs=r0
	;;
	srlz.i
	;;
	rfi
	;;
.Lrendez_physical:
	mov b6=in0
	adds gp=0,in1
	adds r9=15,r0		// the spurious vector ([ia64/vol2] cr.ivr)
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

// ia64_dump_cpu_regs(in0 buffer): stores IA64_DUMP_WORDS words in the
// order of control_abi.h, for a crash dump. A leaf without alloc, so that
// it disturbs no register before it has stored it.
	.align 32
	.global ia64_dump_cpu_regs
	.proc ia64_dump_cpu_regs
ia64_dump_cpu_regs:
	// r32 advances one word per store, so every store ends its group.
	.irp reg, r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18, r19, r20, r21, r22, r23, r24, r25, r26, r27, r28, r29, r30, r31
	st8 [r32]=\reg,8
	;;
	.endr
	// r2 is saved above; from here on it carries each register to memory.
	.irp src, b0, b1, b2, b3, b4, b5, b6, b7, pr, ip, ar.rsc, ar.bsp, ar.bspstore, ar.rnat, ar.unat, ar.fpsr, ar.pfs, ar.lc, ar.ec
	mov r2=\src
	;;
	st8 [r32]=r2,8
	;;
	.endr
	br.ret.sptk.many b0
	;;
	.global ia64_dump_cpu_regs_end
ia64_dump_cpu_regs_end:
	.endp ia64_dump_cpu_regs
