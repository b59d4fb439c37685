/**
 * Shared kernel helpers are C (src/kernel/c/common/*.c, linked before every base's tlb.c), so a
 * variant file that defines a function of the same name replaces them. free_pgtables() frees
 * a leaf table only after the flush (the mmu_gather order); a patch that frees it before the
 * flush lets a lazy CPU's walker read the reused page through its cached upper entry.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { C_BUILTINS, C_COMMON, cBuiltin, cBaseIds } from '../src/kc/builtins.ts';
import { resolveCVariant } from '../src/kc/load-c.ts';
import { checkVariant, tempDir } from './helpers.ts';

const FREE_FIRST = `/* tlbcheck: base=linux-4.20 id=free-table-before-flush kind=bug
 *   title="free_pgtables: the table page freed before the TLB flush"
 */
void free_pgtables(struct mm_struct *mm, pmd_t *pmd, unsigned long table,
		   unsigned long start, unsigned long end, unsigned long reuse)
{
	pmd_clear(pmd);
	tlb_remove_table_free(table);		/* freed at once, no gather */
	tlbcheck_reuse_page(table, reuse);
	tlb_flush_range(mm, start, end, true);
}
`;

describe('shared helpers are C and overridable', () => {
  it('every base links the common files, and they define free_pgtables', async () => {
    expect(C_COMMON).toContain('common/mm.c');
    for (const id of cBaseIds()) {
      const v = await cBuiltin(id)!;
      expect(v.program.fns.has('free_pgtables'), id).toBe(true);
      expect(v.program.origin.get('free_pgtables'), id).toBe('src/kernel/c/common/mm.c');
    }
    expect(C_BUILTINS.some((f) => f.startsWith('common/'))).toBe(false);
  });

  it('a variant overriding free_pgtables changes the verdict on lazy-free-pgtables', async () => {
    const base = await cBuiltin('linux-4.20')!;
    expect(checkVariant(base, 'lazy-free-pgtables', 2).verdict).toBe('holds');
    const dir = tempDir();
    writeFileSync(join(dir, 'free-first.c'), FREE_FIRST);
    const v = (await resolveCVariant('free-first.c', dir)).variant;
    expect(v.program.origin.get('free_pgtables')).toMatch(/free-first\.c$/);
    const r = checkVariant(v, 'lazy-free-pgtables', 2);
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-walk-through-freed-table');
  });
});
