/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcluster: every kernel-version shim lives here.  This file is
 * force-included (see Kbuild) before any other header, so the .c files
 * are written against one API and read like upstream code.
 *
 * Supported: Linux 6.1 and later (tested: Debian's 6.1 and 6.12).
 *
 * Differences between 6.1 and 6.12 that need no shim, so none is here:
 * - udp_tunnel6_xmit_skb() returns int in 6.1 and void in 6.12, and takes
 *   const addresses in 6.12: callers ignore the result and pass non-const.
 * - struct nla_policy's range pointer is const only in 6.12: the range
 *   object is not const, which both accept.
 * - hrtimer_setup() only exists from 6.13: hrtimer_init() works on both.
 * - NL_SET_ERR_MSG_FMT() only exists from 6.2: messages are constant.
 */
#ifndef _VC_COMPAT_H
#define _VC_COMPAT_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#endif /* _VC_COMPAT_H */
