/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The persisted incarnation counter (rule 4: incarnations only grow).
 *
 * <data-dir>/incarnation holds the last life's number as decimal text.
 * Each start reads it, adds one, and writes the new value durably
 * (write to a temporary file, fsync, rename, fsync the directory) before
 * the node may send a single heartbeat, so a crash at any point never
 * reuses a number that peers may have seen.
 */
#ifndef VCD_INCARNATION_H
#define VCD_INCARNATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Take the next incarnation: max(stored + 1, @floor).  @floor lets the
 * caller add a lower bound (the kernel instance's current incarnation
 * + 1 after an agent restart).  Returns 0 or a negative errno with the
 * reason in @err ("PATH: ...").
 */
int vcd_incarnation_next(const char *data_dir, uint64_t floor, uint64_t *ret,
			 char *err, size_t err_size);

#endif /* VCD_INCARNATION_H */
