// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: keys and the MAC on every datagram.
 *
 * The MAC is keyed BLAKE2s-256 (RFC 7693 keyed mode, a PRF and so a MAC
 * with a 256-bit key) over the whole datagram up to the end of the
 * payload, with hdr.auth and hdr.key_id already set; its 32-byte tag
 * follows the payload.  It comes from the kernel's BLAKE2s library
 * (<crypto/blake2s.h>): no crypto API transform to allocate, safe in
 * softirq, in every kernel we support.  Tags are compared in constant
 * time (crypto_memneq()).
 *
 * At most two keys: during a rotation both are accepted and the primary
 * one signs.  Key values are never reported and are wiped
 * (memzero_explicit()) when deleted and when the instance goes away.
 * Keys are read by the timer and the receive path under inst->lock and
 * changed under cfg_mutex and inst->lock.
 */
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <linux/string.h>
#include <net/genetlink.h>

#include "vc.h"

static struct vc_key *vc_key_find(struct vc_inst *inst, u8 id)
{
	int k;

	for (k = 0; k < VC_MAX_KEYS; k++)
		if (id && inst->keys[k].id == id)
			return &inst->keys[k];
	return NULL;
}

static struct vc_key *vc_key_free_slot(struct vc_inst *inst)
{
	int k;

	for (k = 0; k < VC_MAX_KEYS; k++)
		if (!inst->keys[k].id)
			return &inst->keys[k];
	return NULL;
}

static struct vc_key *vc_key_primary(struct vc_inst *inst)
{
	int k;

	for (k = 0; k < VC_MAX_KEYS; k++)
		if (inst->keys[k].id && inst->keys[k].primary)
			return &inst->keys[k];
	return NULL;
}

/* The other key than @key, if there is one. */
static struct vc_key *vc_key_other(struct vc_inst *inst,
				   const struct vc_key *key)
{
	int k;

	for (k = 0; k < VC_MAX_KEYS; k++)
		if (inst->keys[k].id && &inst->keys[k] != key)
			return &inst->keys[k];
	return NULL;
}

bool vc_auth_have_key(const struct vc_inst *inst)
{
	int k;

	for (k = 0; k < VC_MAX_KEYS; k++)
		if (inst->keys[k].id)
			return true;
	return false;
}

/* Room the sender needs after the payload. */
unsigned int vc_auth_tag_len(const struct vc_inst *inst)
{
	lockdep_assert_held(&inst->lock);

	return vc_auth_have_key(inst) ? VC_WIRE_MAC_LEN : 0;
}

static void vc_auth_mac(const struct vc_key *key, const u8 *data,
			unsigned int len, u8 *tag)
{
	struct blake2s_state state;

	/* blake2s_final() wipes the state, key included. */
	blake2s_init_key(&state, VC_WIRE_MAC_LEN, key->key, VC_KEY_LEN);
	blake2s_update(&state, data, len);
	blake2s_final(&state, tag);
}

/*
 * Sign the heartbeat in @skb (header, members, payload) with the primary
 * key: set hdr.auth and hdr.key_id, then append the tag.  The caller
 * allocated vc_auth_tag_len() bytes of tailroom.
 */
void vc_auth_sign(struct vc_inst *inst, struct sk_buff *skb)
{
	struct vc_wire_hdr *hdr = (struct vc_wire_hdr *)skb->data;
	const struct vc_key *key;
	unsigned int len = skb->len;

	lockdep_assert_held(&inst->lock);

	key = vc_key_primary(inst);
	if (!key)
		return;
	hdr->auth = VC_WIRE_AUTH_BLAKE2S;
	hdr->key_id = key->id;
	vc_auth_mac(key, skb->data, len, skb_put(skb, VC_WIRE_MAC_LEN));
}

/*
 * A structurally valid datagram of our cluster: true when its tag is good
 * under the key it names.  Without a key of ours only unauthenticated
 * datagrams pass (INSECURE); with one, an unauthenticated datagram fails.
 */
bool vc_auth_verify(struct vc_inst *inst, const struct vc_wire_hdr *hdr,
		    const u8 *data, unsigned int len)
{
	u8 tag[VC_WIRE_MAC_LEN];
	const struct vc_key *key;
	bool good;

	lockdep_assert_held(&inst->lock);

	if (hdr->auth == VC_WIRE_AUTH_NONE)
		return !vc_auth_have_key(inst);
	key = vc_key_find(inst, hdr->key_id);
	if (!key || len < VC_WIRE_MAC_LEN)
		return false;
	vc_auth_mac(key, data, len - VC_WIRE_MAC_LEN, tag);
	good = !crypto_memneq(tag, data + len - VC_WIRE_MAC_LEN,
			      VC_WIRE_MAC_LEN);
	memzero_explicit(tag, sizeof(tag));
	return good;
}

static int vc_key_set_check(struct vc_inst *inst, struct genl_info *info,
			    struct vc_key *key)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *primary = info->attrs[VC_A_KEY_PRIMARY];

	lockdep_assert_held(&inst->cfg_mutex);

	if (!key && !info->attrs[VC_A_KEY_VALUE]) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VC_A_KEY_ID],
				    "new key id: a value (32 bytes) is required");
		return -EINVAL;
	}
	if (!key && !vc_key_free_slot(inst)) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VC_A_KEY_ID],
				    "at most two keys: delete the old one first (rotation: add the new key, make it primary, delete the old one)");
		return -ENOSPC;
	}
	if (key && key->primary && primary && !nla_get_u32(primary)) {
		NL_SET_ERR_MSG_ATTR(extack, primary,
				    "this is the primary key: make the other key primary instead");
		return -EINVAL;
	}
	return 0;
}

int vc_key_set(struct vc_inst *inst, struct genl_info *info)
{
	struct nlattr *value = info->attrs[VC_A_KEY_VALUE];
	struct nlattr *primary = info->attrs[VC_A_KEY_PRIMARY];
	struct vc_key *key, *other;
	int err;
	u8 id;

	lockdep_assert_held(&inst->cfg_mutex);

	if (GENL_REQ_ATTR_CHECK(info, VC_A_KEY_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "key id required (1..255)");
		return -EINVAL;
	}
	id = nla_get_u32(info->attrs[VC_A_KEY_ID]);
	key = vc_key_find(inst, id);
	err = vc_key_set_check(inst, info, key);
	if (err)
		return err;

	spin_lock_bh(&inst->lock);
	if (!key) {
		key = vc_key_free_slot(inst);
		key->id = id;
		key->primary = !vc_key_primary(inst);
	}
	if (value)
		memcpy(key->key, nla_data(value), VC_KEY_LEN);
	if (primary && nla_get_u32(primary)) {
		other = vc_key_other(inst, key);
		if (other)
			other->primary = 0;
		key->primary = 1;
	}
	spin_unlock_bh(&inst->lock);

	/* No copy of the value left in the request either. */
	if (value)
		memzero_explicit(nla_data(value), nla_len(value));
	return 0;
}

int vc_key_del(struct vc_inst *inst, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[VC_A_KEY_ID];
	struct vc_key *key, *other;

	lockdep_assert_held(&inst->cfg_mutex);

	if (GENL_REQ_ATTR_CHECK(info, VC_A_KEY_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "key id required (1..255)");
		return -EINVAL;
	}
	key = vc_key_find(inst, nla_get_u32(nla));
	if (!key) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla, "no such key");
		return -ENOENT;
	}
	if (key->primary && inst->running) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "the primary key signs our heartbeats: make another key primary first (or stop)");
		return -EBUSY;
	}

	spin_lock_bh(&inst->lock);
	other = vc_key_other(inst, key);
	if (key->primary && other)
		other->primary = 1;
	memzero_explicit(key, sizeof(*key));
	spin_unlock_bh(&inst->lock);
	return 0;
}

/* NODE_GET: AUTH, INSECURE, one KEY nest (id, primary) per key. */
int vc_auth_put(struct sk_buff *skb, struct vc_inst *inst)
{
	const struct vc_key *key;
	struct nlattr *nest;
	int k;

	lockdep_assert_held(&inst->lock);

	if (nla_put_u32(skb, VC_A_NODE_AUTH,
			vc_auth_have_key(inst) ? VC_WIRE_AUTH_BLAKE2S :
						 VC_WIRE_AUTH_NONE) ||
	    nla_put_u32(skb, VC_A_NODE_INSECURE, inst->insecure) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_RX_BAD_MAC, inst->rx_bad_mac,
			      VC_A_NODE_PAD))
		return -EMSGSIZE;
	for (k = 0; k < VC_MAX_KEYS; k++) {
		key = &inst->keys[k];
		if (!key->id)
			continue;
		nest = nla_nest_start(skb, VC_A_NODE_KEY);
		if (!nest ||
		    nla_put_u32(skb, VC_A_KEY_ID, key->id) ||
		    nla_put_u32(skb, VC_A_KEY_PRIMARY, key->primary))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

/* Teardown: no key value stays in memory. */
void vc_keys_wipe(struct vc_inst *inst)
{
	memzero_explicit(inst->keys, sizeof(inst->keys));
}
