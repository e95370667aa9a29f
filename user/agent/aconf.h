/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vclusterd's view of the config file: vc_config_parse() plus the checks
 * only the agent needs, with every path resolved and the raft membership
 * derived.  `vclusterd --check-config` runs exactly this.
 */
#ifndef VCD_ACONF_H
#define VCD_ACONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "consensus.h"

struct vcd_aconf {
	char path[VC_PATH_LEN];		/* the config file as given */
	struct vc_config cfg;
	char data_dir[VC_PATH_LEN];	/* absolute */
	char raft_dir[VC_PATH_LEN + 8];	/* data_dir/raft */
	char socket_path[VC_PATH_LEN];
	char key_path[VC_PATH_LEN + 256];	/* "" with insecure */
	uint8_t key[VC_KEY_LEN];
	bool have_key;
	uint32_t node_id;
	uint32_t voters;		/* nodes with votes > 0, self included */
	int log_level;
	/* Raft members, self first; voters hold votes, others are standby. */
	struct vcd_cons_member members[VCD_CONS_MAX_MEMBERS];
	size_t n_members;
};

/*
 * Read, parse and check @path.  Returns 0, or a negative errno with a
 * message naming the file, line and key in @err.
 */
int vcd_aconf_load(const char *path, struct vcd_aconf *ac, char *err, size_t err_size);

/* Votes of a node as the kernel would count them (default 1). */
uint32_t vcd_aconf_node_votes(const struct vc_node_cfg *node);
uint32_t vcd_aconf_peer_votes(const struct vc_peer_cfg *peer);

/* The peer's [peer N] section, NULL if @node_id is not configured. */
const struct vc_peer_cfg *vcd_aconf_peer(const struct vcd_aconf *ac, uint32_t node_id);

/* Forget the key. */
void vcd_aconf_wipe(struct vcd_aconf *ac);

#endif /* VCD_ACONF_H */
