/*
 * Kernel-mode page faults that nothing can fix (arch/x86/mm/fault.c
 * page_fault_oops, show_fault_oops, dump_pagetable; arch/x86/kernel/
 * dumpstack.c __die; arch/x86/kernel/traps.c for the #GP of a
 * non-canonical address).
 *
 * When a kernel access finds no present translation (or writes through a
 * read-only one), the CPU raises #PF with the address in CR2 and an error
 * code; the kernel checks whether the faulting instruction has an exception
 * fixup (copy_from_user and friends do; a plain dereference does not), and
 * otherwise prints the oops and kills the task:
 *
 *   BUG: unable to handle page fault for address: ffffc90000005000
 *   #PF: supervisor write access in kernel mode
 *   #PF: error_code(0x0002) - not-present page
 *   PGD 1a0e067 P4D 1a0e067 PUD 1a0f067 PMD 1a10067 PTE 0
 *   Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI
 *   CPU: 0 UID: 0 PID: 1 Comm: insmod Not tainted 6.12.0-kmem #1
 *   Hardware name: kmem simulated x86_64 machine
 *   RIP: 0010:init
 *   Call Trace:
 *    <TASK>
 *    ? __die
 *    ? page_fault_oops
 *    ? exc_page_fault
 *    ? asm_exc_page_fault
 *    init
 *    </TASK>
 *   Modules linked in:
 *   CR2: ffffc90000005000
 *   ---[ end trace 0000000000000000 ]---
 *
 * An address below PAGE_SIZE is reported as "BUG: kernel NULL pointer
 * dereference, address: ...". i386 prints its two (PAE: three) levels as
 * "*pde = ... *pte = ..." and has no PTI suffix without PAE. kmem has no
 * machine code: RIP names the function that made the access (the nearest
 * caller outside kmem), and the register dump (Code:, RSP, RAX...) is left
 * out. Killing the task becomes a KernelBug thrown to the caller: the access
 * cannot complete, and nothing was written.
 *
 * A pointer that is not canonical on x86_64 (LIST_POISON1 is
 * 0xdead000000000100) does not even get to the page tables: the CPU raises
 * #GP, reported as "Oops: general protection fault, probably for
 * non-canonical address 0xdead000000000100: 0000 [#1] ...".
 */
import { KERN_ALERT, KERN_INFO, type Bug } from '../../kernel/bug.ts';
import { kernelCaller as callerSymbol } from '../../kernel/ret_ip.ts';
import { PAGE_SIZE, formatPtr, type ArchLayout } from './layout.ts';
import type { PageTables } from './pgtable.ts';

/* enum x86_pf_error_code */
export const X86_PF_PROT = 1 << 0;
export const X86_PF_WRITE = 1 << 1;
export const X86_PF_USER = 1 << 2;
export const X86_PF_RSVD = 1 << 3;
export const X86_PF_INSTR = 1 << 4;

/** The JS form's marker of a non-canonical (poison) x86_64 pointer: bit 48 (see layout.ts). */
const TWO48 = 2 ** 48;

export class Faults {
  /** TASK_SIZE_MAX: the end of user space (x86_64 0x00007ffffffff000; i386 PAGE_OFFSET). */
  readonly taskSizeMax: number;

  constructor(
    private readonly bug: Bug,
    private readonly layout: ArchLayout,
    private readonly pt: PageTables,
    private readonly maxLowPfn: number,
  ) {
    this.taskSizeMax = layout.bits === 64 ? 0x7ffffffff000 : layout.PAGE_OFFSET;
  }

  /** " PTI"/" NOPTI" exists with CONFIG_MITIGATION_PAGE_TABLE_ISOLATION: x86_64 and PAE. kmem's CPUs run without PTI. */
  private dieSuffix(): string {
    return this.layout.bits === 64 || this.pt.lv.pae ? ' PREEMPT SMP NOPTI' : ' PREEMPT SMP';
  }

  /** A kernel access to va faulted: report as page_fault_oops() does, then throw. */
  page_fault_oops(va: number, errorCode: number): never {
    if (this.layout.bits === 64 && va >= TWO48) this.general_protection(va);
    const px = formatPtr(this.layout, va);
    const preamble: [number, string][] = [];
    preamble.push([KERN_ALERT, va < PAGE_SIZE
      ? `BUG: kernel NULL pointer dereference, address: ${px}`
      : `BUG: unable to handle page fault for address: ${px}`]);
    const access = errorCode & X86_PF_INSTR ? 'instruction fetch' : errorCode & X86_PF_WRITE ? 'write access' : 'read access';
    preamble.push([KERN_ALERT, `#PF: ${errorCode & X86_PF_USER ? 'user' : 'supervisor'} ${access} in kernel mode`]);
    const why = !(errorCode & X86_PF_PROT) ? 'not-present page' : errorCode & X86_PF_RSVD ? 'reserved bit violation' : 'permissions violation';
    preamble.push([KERN_ALERT, `#PF: error_code(0x${errorCode.toString(16).padStart(4, '0')}) - ${why}`]);
    preamble.push([KERN_INFO, this.pt.dump_pagetable(va, this.maxLowPfn)]);
    const ip = callerSymbol();
    const frames = ['? __die', '? page_fault_oops'];
    // A fault on a user address goes through do_user_addr_fault() (SMAP: no fixup for a plain access).
    if (va < this.taskSizeMax) frames.push('? do_user_addr_fault');
    frames.push('? exc_page_fault', '? asm_exc_page_fault', ip);
    const cr2 = va.toString(16).padStart(16, '0');
    const cr2Full = this.layout.bits === 64 ? formatPtr(this.layout, va) : cr2;
    this.bug.die(preamble, `Oops: Oops: ${errorCode.toString(16).padStart(4, '0')} [#1]${this.dieSuffix()}`, ip, frames,
      [`CR2: ${cr2Full}`]);
  }

  /** #GP on a non-canonical address (exc_general_protection -> die_addr). */
  general_protection(va: number): never {
    // The stored 64-bit value: 0xdead in the top 16 bits (the only non-canonical pointers kmem forms).
    const low48 = va - TWO48;
    const hex = 'dead' + low48.toString(16).padStart(12, '0');
    const ip = callerSymbol();
    this.bug.die([], `Oops: general protection fault, probably for non-canonical address 0x${hex}: 0000 [#1]${this.dieSuffix()}`, ip,
      ['? die_addr', '? exc_general_protection', '? asm_exc_general_protection', ip], []);
  }
}
