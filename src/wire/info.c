/*
 * info.c - the five fixed information structures on the wire, field by
 * field in the specification's order (codec.h, docs/protocol.md
 * "info_out"): blank-padded strings as their fixed arrays, versions as two
 * bytes (major, minor), CK_ULONG members as u64. A decoder fills a local
 * copy and writes the caller's structure only once everything decoded.
 */
#include "wire/codec_int.h"

#include <string.h>

static void w_version(struct cf_wout *w, CK_VERSION v)
{
	cf_w_u8(w, v.major);
	cf_w_u8(w, v.minor);
}

static bool r_version(struct cf_win *r, CK_VERSION *v)
{
	return cf_r_u8(r, &v->major) && cf_r_u8(r, &v->minor);
}

static bool r_array(struct cf_win *r, void *dst, size_t n)
{
	const uint8_t *p;

	if (!cf_r_raw(r, &p, n))
		return false;
	memcpy(dst, p, n);
	return true;
}

void cf_w_info(struct cf_wout *w, const CK_INFO *i)
{
	w_version(w, i->cryptokiVersion);
	cf_w_raw(w, i->manufacturerID, sizeof(i->manufacturerID));
	cf_w_ulong(w, i->flags);
	cf_w_raw(w, i->libraryDescription, sizeof(i->libraryDescription));
	w_version(w, i->libraryVersion);
}

bool cf_r_info(struct cf_win *r, CK_INFO *i)
{
	CK_INFO t;

	memset(&t, 0, sizeof(t));
	if (!r_version(r, &t.cryptokiVersion) ||
	    !r_array(r, t.manufacturerID, sizeof(t.manufacturerID)) ||
	    !cf_r_ulong(r, &t.flags) ||
	    !r_array(r, t.libraryDescription, sizeof(t.libraryDescription)) ||
	    !r_version(r, &t.libraryVersion))
		return false;
	*i = t;
	return true;
}

void cf_w_slot_info(struct cf_wout *w, const CK_SLOT_INFO *i)
{
	cf_w_raw(w, i->slotDescription, sizeof(i->slotDescription));
	cf_w_raw(w, i->manufacturerID, sizeof(i->manufacturerID));
	cf_w_ulong(w, i->flags);
	w_version(w, i->hardwareVersion);
	w_version(w, i->firmwareVersion);
}

bool cf_r_slot_info(struct cf_win *r, CK_SLOT_INFO *i)
{
	CK_SLOT_INFO t;

	memset(&t, 0, sizeof(t));
	if (!r_array(r, t.slotDescription, sizeof(t.slotDescription)) ||
	    !r_array(r, t.manufacturerID, sizeof(t.manufacturerID)) ||
	    !cf_r_ulong(r, &t.flags) || !r_version(r, &t.hardwareVersion) ||
	    !r_version(r, &t.firmwareVersion))
		return false;
	*i = t;
	return true;
}

void cf_w_token_info(struct cf_wout *w, const CK_TOKEN_INFO *i)
{
	cf_w_raw(w, i->label, sizeof(i->label));
	cf_w_raw(w, i->manufacturerID, sizeof(i->manufacturerID));
	cf_w_raw(w, i->model, sizeof(i->model));
	cf_w_raw(w, i->serialNumber, sizeof(i->serialNumber));
	cf_w_ulong(w, i->flags);
	cf_w_ulong(w, i->ulMaxSessionCount);
	cf_w_ulong(w, i->ulSessionCount);
	cf_w_ulong(w, i->ulMaxRwSessionCount);
	cf_w_ulong(w, i->ulRwSessionCount);
	cf_w_ulong(w, i->ulMaxPinLen);
	cf_w_ulong(w, i->ulMinPinLen);
	cf_w_ulong(w, i->ulTotalPublicMemory);
	cf_w_ulong(w, i->ulFreePublicMemory);
	cf_w_ulong(w, i->ulTotalPrivateMemory);
	cf_w_ulong(w, i->ulFreePrivateMemory);
	w_version(w, i->hardwareVersion);
	w_version(w, i->firmwareVersion);
	cf_w_raw(w, i->utcTime, sizeof(i->utcTime));
}

bool cf_r_token_info(struct cf_win *r, CK_TOKEN_INFO *i)
{
	CK_TOKEN_INFO t;

	memset(&t, 0, sizeof(t));
	if (!r_array(r, t.label, sizeof(t.label)) ||
	    !r_array(r, t.manufacturerID, sizeof(t.manufacturerID)) ||
	    !r_array(r, t.model, sizeof(t.model)) ||
	    !r_array(r, t.serialNumber, sizeof(t.serialNumber)) ||
	    !cf_r_ulong(r, &t.flags) || !cf_r_ulong(r, &t.ulMaxSessionCount) ||
	    !cf_r_ulong(r, &t.ulSessionCount) ||
	    !cf_r_ulong(r, &t.ulMaxRwSessionCount) ||
	    !cf_r_ulong(r, &t.ulRwSessionCount) ||
	    !cf_r_ulong(r, &t.ulMaxPinLen) || !cf_r_ulong(r, &t.ulMinPinLen) ||
	    !cf_r_ulong(r, &t.ulTotalPublicMemory) ||
	    !cf_r_ulong(r, &t.ulFreePublicMemory) ||
	    !cf_r_ulong(r, &t.ulTotalPrivateMemory) ||
	    !cf_r_ulong(r, &t.ulFreePrivateMemory) ||
	    !r_version(r, &t.hardwareVersion) ||
	    !r_version(r, &t.firmwareVersion) ||
	    !r_array(r, t.utcTime, sizeof(t.utcTime)))
		return false;
	*i = t;
	return true;
}

void cf_w_session_info(struct cf_wout *w, const CK_SESSION_INFO *i)
{
	cf_w_ulong(w, i->slotID);
	cf_w_ulong(w, i->state);
	cf_w_ulong(w, i->flags);
	cf_w_ulong(w, i->ulDeviceError);
}

bool cf_r_session_info(struct cf_win *r, CK_SESSION_INFO *i)
{
	CK_SESSION_INFO t;

	memset(&t, 0, sizeof(t));
	if (!cf_r_ulong(r, &t.slotID) || !cf_r_ulong(r, &t.state) ||
	    !cf_r_ulong(r, &t.flags) || !cf_r_ulong(r, &t.ulDeviceError))
		return false;
	*i = t;
	return true;
}

void cf_w_mech_info(struct cf_wout *w, const CK_MECHANISM_INFO *i)
{
	cf_w_ulong(w, i->ulMinKeySize);
	cf_w_ulong(w, i->ulMaxKeySize);
	cf_w_ulong(w, i->flags);
}

bool cf_r_mech_info(struct cf_win *r, CK_MECHANISM_INFO *i)
{
	CK_MECHANISM_INFO t;

	memset(&t, 0, sizeof(t));
	if (!cf_r_ulong(r, &t.ulMinKeySize) ||
	    !cf_r_ulong(r, &t.ulMaxKeySize) || !cf_r_ulong(r, &t.flags))
		return false;
	*i = t;
	return true;
}
