/*
 * cmd_keygen.c - coffer keygen: key pairs and secret keys made in the
 * token. The default CKA_ID is 16 random bytes from the token, the same on
 * both halves of a pair; C_GenerateKeyPair makes both or neither, so a
 * failure leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "cli/cli.h"

enum usage {
	U_SIGN = 1,
	U_VERIFY = 2,
	U_ENCRYPT = 4,
	U_DECRYPT = 8,
	U_WRAP = 16,
	U_UNWRAP = 32,
	U_DERIVE = 64,
};

static const char *const usage_names[] = {
    "sign", "verify", "encrypt", "decrypt", "wrap", "unwrap", "derive",
};

static int parse_usage(const char *s, unsigned *out)
{
	const char *p = s;

	*out = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		bool ok = false;

		for (unsigned i = 0; i < 7; i++)
			if (strlen(usage_names[i]) == n &&
			    strncmp(usage_names[i], p, n) == 0) {
				*out |= 1u << i;
				ok = true;
			}
		if (!ok) {
			cli_err("--usage: unknown '%.*s' (sign, verify, "
				"encrypt, decrypt, wrap, unwrap, derive)",
				(int)n, p);
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

struct spec {
	CK_MECHANISM_TYPE mech;
	CK_KEY_TYPE kt;
	bool pair;
	CK_ULONG bits;
	int curve; /* NID for EC-family keys */
	unsigned usage;
};

static const struct {
	const char *name;
	int nid;
} curves[] = {
    {"P-256", NID_X9_62_prime256v1},	 {"prime256v1", NID_X9_62_prime256v1},
    {"secp256r1", NID_X9_62_prime256v1}, {"P-384", NID_secp384r1},
    {"secp384r1", NID_secp384r1},	 {"P-521", NID_secp521r1},
    {"secp521r1", NID_secp521r1},	 {"secp256k1", NID_secp256k1},
};

static int parse_type(const char *s, struct spec *sp)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	const char *arg = colon ? colon + 1 : "";
	char *end;
	unsigned long bits = strtoul(arg, &end, 10);
	bool have_bits = *arg != '\0' && *end == '\0';

	memset(sp, 0, sizeof(*sp));
	sp->curve = NID_undef;
#define IS(w) (n == strlen(w) && strncmp(s, w, n) == 0)
	if (IS("rsa")) {
		if (!have_bits || bits < 1024 || bits > 16384) {
			cli_err("rsa:BITS with BITS from 1024 to 16384");
			return -1;
		}
		sp->mech = CKM_RSA_PKCS_KEY_PAIR_GEN;
		sp->kt = CKK_RSA;
		sp->pair = true;
		sp->bits = bits;
		sp->usage = U_SIGN | U_VERIFY | U_ENCRYPT | U_DECRYPT;
	} else if (IS("ec")) {
		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (strcmp(curves[i].name, arg) == 0)
				sp->curve = curves[i].nid;
		if (sp->curve == NID_undef) {
			cli_err("ec:CURVE with CURVE P-256, P-384, P-521 or "
				"secp256k1");
			return -1;
		}
		sp->mech = CKM_EC_KEY_PAIR_GEN;
		sp->kt = CKK_EC;
		sp->pair = true;
		sp->usage = U_SIGN | U_VERIFY;
	} else if (IS("ed25519") || IS("ed448")) {
		sp->mech = CKM_EC_EDWARDS_KEY_PAIR_GEN;
		sp->kt = CKK_EC_EDWARDS;
		sp->pair = true;
		sp->curve = IS("ed25519") ? NID_ED25519 : NID_ED448;
		sp->usage = U_SIGN | U_VERIFY;
	} else if (IS("x25519") || IS("x448")) {
		sp->mech = CKM_EC_MONTGOMERY_KEY_PAIR_GEN;
		sp->kt = CKK_EC_MONTGOMERY;
		sp->pair = true;
		sp->curve = IS("x25519") ? NID_X25519 : NID_X448;
		sp->usage = U_DERIVE;
	} else if (IS("aes") || IS("hmac") || IS("generic")) {
		bool aes = IS("aes");

		if (!have_bits || bits % 8 != 0 || bits == 0 || bits > 4096 ||
		    (aes && bits != 128 && bits != 192 && bits != 256)) {
			cli_err("%s",
				aes ? "aes:BITS with BITS 128, 192 or 256"
				    : "hmac:BITS / generic:BITS with BITS "
				      "a multiple of 8");
			return -1;
		}
		sp->mech = aes ? CKM_AES_KEY_GEN : CKM_GENERIC_SECRET_KEY_GEN;
		sp->kt = aes ? CKK_AES : CKK_GENERIC_SECRET;
		sp->bits = bits;
		sp->usage = aes ? U_ENCRYPT | U_DECRYPT | U_WRAP | U_UNWRAP
			    : IS("hmac") ? U_SIGN | U_VERIFY
					 : U_SIGN | U_VERIFY | U_DERIVE;
	} else {
		cli_err("unknown key type '%s' (rsa:BITS, ec:CURVE, ed25519, "
			"ed448, x25519, x448, aes:BITS, hmac:BITS, "
			"generic:BITS)",
			s);
		return -1;
	}
#undef IS
	return 0;
}

#define ADD(tt, atype, ptr, len)                                               \
	do {                                                                   \
		(tt)[n##tt].type = (atype);                                    \
		(tt)[n##tt].pValue = (void *)(ptr);                            \
		(tt)[n##tt].ulValueLen = (CK_ULONG)(len);                      \
		n##tt++;                                                       \
	} while (0)

int cmd_keygen(struct cli *c)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const CK_BYTE f4[] = {0x01, 0x00, 0x01};
	static const CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY,
				     privc = CKO_PRIVATE_KEY,
				     secc = CKO_SECRET_KEY;
	struct spec sp;
	CK_ATTRIBUTE pub[16], priv[20];
	CK_ULONG npub = 0, npriv = 0;
	CK_MECHANISM mech = {0, NULL, 0};
	CK_OBJECT_HANDLE hpub, hpriv;
	uint8_t rid[16], *id = rid, *params = NULL;
	size_t idlen = sizeof(rid);
	CK_ULONG vlen;
	unsigned usage;
	int plen = 0, rc = 1;
	CK_RV rv;

	if (c->o.argc != 1) {
		cli_err("keygen TYPE: one key type (see coffer keygen --help)");
		return 1;
	}
	if (parse_type(c->o.argv[0], &sp) != 0)
		return 1;
	usage = sp.usage;
	if (c->o.usage != NULL && parse_usage(c->o.usage, &usage) != 0)
		return 1;
	if (c->o.label == NULL) {
		cli_err("keygen: --label LABEL is needed");
		return 1;
	}
	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_session_open(c) != 0 ||
	    cli_new_key_id(c, rid, &id, &idlen) != 0 ||
	    cli_login(c, CKU_USER) != 0)
		goto out_free;
	mech.mechanism = sp.mech;
	if (sp.curve != NID_undef) {
		unsigned char *p = NULL;

		plen = i2d_ASN1_OBJECT(OBJ_nid2obj(sp.curve), &p);
		if (plen <= 0)
			goto out_free;
		params = p;
	}
	/* The private (or secret) half. */
	ADD(priv, CKA_CLASS, sp.pair ? &privc : &secc, sizeof(CK_ULONG));
	ADD(priv, CKA_KEY_TYPE, &sp.kt, sizeof(sp.kt));
	ADD(priv, CKA_TOKEN, &yes, 1);
	ADD(priv, CKA_PRIVATE, &yes, 1);
	ADD(priv, CKA_SENSITIVE, &yes, 1);
	ADD(priv, CKA_EXTRACTABLE, c->o.extractable ? &yes : &no, 1);
	ADD(priv, CKA_LABEL, c->o.label, strlen(c->o.label));
	ADD(priv, CKA_ID, id, idlen);
	/* Every usage flag is set, true or false: module defaults differ. */
	ADD(priv, CKA_SIGN, usage & U_SIGN ? &yes : &no, 1);
	ADD(priv, CKA_DECRYPT, usage & U_DECRYPT ? &yes : &no, 1);
	ADD(priv, CKA_UNWRAP, usage & U_UNWRAP ? &yes : &no, 1);
	ADD(priv, CKA_DERIVE, usage & U_DERIVE ? &yes : &no, 1);
	if (c->o.always_auth)
		ADD(priv, CKA_ALWAYS_AUTHENTICATE, &yes, 1);
	if (!sp.pair) {
		ADD(priv, CKA_VERIFY, usage & U_VERIFY ? &yes : &no, 1);
		ADD(priv, CKA_ENCRYPT, usage & U_ENCRYPT ? &yes : &no, 1);
		ADD(priv, CKA_WRAP, usage & U_WRAP ? &yes : &no, 1);
		vlen = sp.bits / 8;
		ADD(priv, CKA_VALUE_LEN, &vlen, sizeof(vlen));
		rv = c->f->C_GenerateKey(c->sess, &mech, priv, npriv, &hpriv);
	} else {
		ADD(pub, CKA_CLASS, &pubc, sizeof(pubc));
		ADD(pub, CKA_KEY_TYPE, &sp.kt, sizeof(sp.kt));
		ADD(pub, CKA_TOKEN, &yes, 1);
		ADD(pub, CKA_PRIVATE, &no, 1);
		ADD(pub, CKA_LABEL, c->o.label, strlen(c->o.label));
		ADD(pub, CKA_ID, id, idlen);
		ADD(pub, CKA_VERIFY, usage & U_VERIFY ? &yes : &no, 1);
		ADD(pub, CKA_ENCRYPT, usage & U_ENCRYPT ? &yes : &no, 1);
		ADD(pub, CKA_WRAP, usage & U_WRAP ? &yes : &no, 1);
		ADD(pub, CKA_DERIVE, usage & U_DERIVE ? &yes : &no, 1);
		if (sp.kt == CKK_RSA) {
			ADD(pub, CKA_MODULUS_BITS, &sp.bits, sizeof(sp.bits));
			ADD(pub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
		} else {
			ADD(pub, CKA_EC_PARAMS, params, plen);
		}
		rv = c->f->C_GenerateKeyPair(c->sess, &mech, pub, npub, priv,
					     npriv, &hpub, &hpriv);
	}
	if (rv != CKR_OK) {
		if (rv == CKR_MECHANISM_INVALID)
			cli_err("the token cannot make %s keys "
				"(CKR_MECHANISM_INVALID)",
				c->o.argv[0]);
		else
			cli_rv_err("key generation", rv);
		goto out_free;
	}
	{
		char *uri = cli_object_uri(c, hpriv);

		printf("generated %s key '%s' id ", c->o.argv[0], c->o.label);
		cli_hex_print(stdout, id, idlen);
		printf("\n%s\n", uri ? uri : "");
		free(uri);
	}
	rc = 0;
out_free:
	if (id != rid)
		free(id);
	OPENSSL_free(params);
	return rc;
}
