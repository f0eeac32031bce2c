/* SPDX-License-Identifier: GPL-2.0 */
/* errno names for test output: scripts compare names, not locale messages. */
#ifndef LLAMUX_ERRNAME_H
#define LLAMUX_ERRNAME_H

#include <errno.h>
#include <stdio.h>

static inline const char *errname(int err)
{
	static char other[16];

	switch (err) {
	case 0: return "success";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ESPIPE: return "ESPIPE";
	case EPROTO: return "EPROTO";
	case EMSGSIZE: return "EMSGSIZE";
	case ECONNABORTED: return "ECONNABORTED";
	case EDQUOT: return "EDQUOT";
	case EUSERS: return "EUSERS";
	case ENOBUFS: return "ENOBUFS";
	case EMFILE: return "EMFILE";
	}
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}

#endif
