// Bundles that each hold one instruction outside the interpreter's subset,
// assembled by the real ia64 assembler. decode_test.cpp expects them in
// this order, with the unsupported instruction in the slot named here.
	.text
	.align 16
{ .mfi			// slot 1: F unit
	nop.m 0
	fma.d f6=f7,f8,f9
	nop.i 0 ;;
}
{ .mlx			// slot 1: L+X (movl)
	nop.m 0
	movl r8=0x123456789abcdef0 ;;
}
{ .mii			// slot 0: a load size other than ld8
	ld4 r8=[r9]
	nop.i 0
	nop.i 0 ;;
}
{ .mii			// slot 1: an A-unit form not in the subset
	nop.m 0
	shladd r8=r9,2,r10
	nop.i 0 ;;
}
{ .mib			// slot 2: a call (no calls in the control block)
	nop.m 0
	nop.i 0
	br.call.sptk.many b0=b6 ;;
}
{ .mii			// slot 1: an unconditional compare type
	nop.m 0
	cmp.eq.unc p6,p7=r8,r9
	nop.i 0 ;;
}
{ .mmi			// slot 0: ssm (only rsm is in the subset)
	ssm 0x2000
	nop.m 0
	nop.i 0 ;;
}
