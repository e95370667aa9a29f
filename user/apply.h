/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Make the kernel's instance match a config file: the steps that
 * "vclusterctl load" and vclusterd's kernel transport share, so both
 * configure the module the same way.
 *
 * Library code: nothing is printed.  Each function returns 0 or a negative
 * errno (the kernel's; its extack is then in @nl) and on failure writes
 * into @where (@where_size bytes) which step failed, in the words
 * "vclusterctl load" reports: "FILE: [node]", "FILE:LINE: [peer 2]",
 * "deleting peer 4", "listing peers", "start", "FILE:LINE: [fence]".
 * @file is the config file's name as the user gave it.
 */
#ifndef VC_APPLY_H
#define VC_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "nl.h"

/*
 * NODE_SET with the [node] fields given in the file that are also in
 * @mask (VC_NODE_F_*; ~0u for all).  Nothing is sent when none is left.
 */
int vc_apply_node(struct vc_nl *nl, const struct vc_config *cfg, unsigned int mask,
		  const char *file, char *where, size_t where_size);

/* KEY_SET @id with @key (VC_KEY_LEN bytes) as the primary key. */
int vc_apply_key(struct vc_nl *nl, uint32_t id, const uint8_t *key, char *where,
		 size_t where_size);

/*
 * The peers: PEER_DEL those the file does not list, PEER_SET those that
 * exist, PEER_ADD the others.
 */
int vc_apply_peers(struct vc_nl *nl, const struct vc_config *cfg, const char *file,
		   char *where, size_t where_size);

/* START, with @incarnation unless it is 0 (then the kernel picks one). */
int vc_apply_start(struct vc_nl *nl, uint64_t incarnation, char *where, size_t where_size);

/* FENCE_ARM with [fence]; -EINVAL (nothing sent) without a [fence] section. */
int vc_apply_arm(struct vc_nl *nl, const struct vc_config *cfg, const char *file,
		 char *where, size_t where_size);

#endif /* VC_APPLY_H */
