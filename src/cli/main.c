/*
 * main.c - coffer: the command table, option parsing and dispatch.
 *
 * One getopt_long table holds every option; each command lists the ones
 * it accepts, so `coffer keygen --sig x` is refused rather than ignored.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define COMMON "module,token,pin,pin-source"
#define HELP_COMMON                                                            \
	"  --module PATH        PKCS#11 module (env COFFER_MODULE; default "   \
	"the "                                                                 \
	"installed libcoffer.so)\n"                                            \
	"  --token URI|LABEL    the token (default: the only initialized "     \
	"one)\n"                                                               \
	"  --pin PIN            user PIN (for scripts; visible to ps)\n"       \
	"  --pin-source SRC     user PIN from file:PATH or env:NAME "          \
	"(default: "                                                           \
	"a prompt)\n"

const struct cli_command cli_commands[] = {
    {"tokens", "slots", "slots, tokens, flags and token URIs", cmd_tokens,
     "module", "tokens [--module PATH]",
     "Lists the module's slots and tokens: label, model, serial, flags and\n"
     "each token's PKCS#11 URI.\n"},
    {"info", NULL, "module, library and PKCS#11 versions", cmd_info, "module",
     "info [--module PATH]",
     "Shows the module (library description, versions, PKCS#11 version)\n"
     "and the OpenSSL and p11-kit versions coffer uses.\n"},
    {"mechanisms", NULL, "the token's mechanisms", cmd_mechanisms,
     "module,token", "mechanisms [--token URI|LABEL]",
     "Lists the token's mechanisms with key sizes and flags.\n"},
    {"init-token", NULL, "initialize a token and set its SO PIN",
     cmd_init_token, "module,token,slot,label,so-pin,so-pin-source",
     "init-token --label LABEL [--slot ID | --token URI] [--so-pin-source "
     "SRC]",
     "Initializes (or re-initializes: all objects are lost) a token and sets\n"
     "its SO PIN. Default: the first slot whose token is not initialized.\n"
     "  --so-pin PIN, --so-pin-source file:PATH|env:NAME  the SO PIN\n"},
    {"init-pin", NULL, "the SO sets the user PIN", cmd_init_pin,
     "module,token,so-pin,so-pin-source,pin,pin-source",
     "init-pin [--token URI] [--so-pin-source SRC] [--pin-source SRC]",
     "Logs in as SO and sets the user PIN of a token (C_InitPIN).\n"},
    {"set-pin", NULL, "change the user (or SO) PIN", cmd_set_pin,
     "module,token,pin,pin-source,new-pin,new-pin-source,so-pin,"
     "so-pin-source",
     "set-pin [--token URI] [--so-pin[-source] | --pin[-source]] "
     "--new-pin-source SRC",
     "Changes the user PIN (or with --so-pin/--so-pin-source the SO PIN).\n"
     "  --new-pin PIN, --new-pin-source SRC  the new PIN\n"},
    {"unlock", NULL, "the SO resets a locked user PIN", cmd_unlock,
     "module,token,so-pin,so-pin-source,new-pin,new-pin-source",
     "unlock [--token URI] [--so-pin-source SRC] [--new-pin-source SRC]",
     "The SO resets a (locked) user PIN to a new one (C_InitPIN as SO).\n"},
    {"keygen", NULL, "generate a key pair or secret key in the token",
     cmd_keygen, COMMON ",label,id,usage,extractable,always-auth",
     "keygen TYPE --label LABEL [--id HEX] [--usage LIST] [--extractable] "
     "[--always-auth]",
     "Generates a key in the token. TYPE: rsa:BITS, ec:P-256|P-384|P-521|\n"
     "secp256k1, ed25519, ed448, x25519, x448, aes:BITS, hmac:BITS,\n"
     "generic:BITS. The default CKA_ID is 16 random bytes, shared by both\n"
     "halves of a key pair.\n"
     "  --usage LIST   sign,verify,encrypt,decrypt,wrap,unwrap,derive\n"
     "                 (default: what the key type is for)\n"
     "  --extractable  the private or secret key may be wrapped out\n"
     "  --always-auth  the private key needs the PIN for every use\n"},
    {"objects", "list",
     "list objects (class, type, label, id, size, flags, URI)", cmd_objects,
     COMMON ",login,json", "objects [URI] [--login] [--json]",
     "Lists objects: class, type, label, id, size, usage flags and URI.\n"
     "Private objects only after a login: give --login or a PIN option.\n"},
    {"import", NULL, "import certificates, keys and PKCS#12 bundles",
     cmd_import, COMMON ",label,id,type,key-pass-source,extractable,in",
     "import FILE [--label L] [--id HEX] [--type TYPE] [--key-pass-source "
     "SRC]",
     "Imports X.509 certificates (PEM or DER, whole chains), public keys,\n"
     "PKCS#8 private keys (PEM/DER, encrypted too), PKCS#12 bundles (key,\n"
     "certificate and chain with one CKA_ID) and raw secret keys\n"
     "(--type aes|generic|hmac). A certificate whose key is on the token\n"
     "gets that key's CKA_ID and label. Other objects get the SHA-1 of\n"
     "their public key as CKA_ID. Nothing is left behind when it fails.\n"
     "  --type cert|pubkey|privkey|p12|aes|generic|hmac  force the kind\n"
     "  --key-pass-source SRC  passphrase of an encrypted key or PKCS#12\n"
     "  --extractable  the private or secret key may be wrapped out\n"},
    {"export", NULL, "export a certificate or public key", cmd_export,
     COMMON ",out,der,login", "export URI [--out FILE] [--der]",
     "Writes a certificate or public key (PEM, or DER with --der). Private\n"
     "and secret keys are never exported.\n"},
    {"csr", NULL, "a PKCS#10 request signed by a token key", cmd_csr,
     COMMON ",key,subject,san,hash,pss,out,der",
     "csr --key URI --subject /CN=../O=.. [--san DNS:..,IP:..] [--hash "
     "sha256] [--pss] [--out FILE]",
     "A PKCS#10 request for the token key, signed in the token (RSA\n"
     "PKCS#1 v1.5 or PSS, ECDSA, Ed25519).\n"},
    {"cert", NULL, "an X.509 certificate signed by a token key", cmd_cert,
     COMMON
     ",key,ca-key,ca-cert,self-signed,subject,days,serial,san,"
     "key-usage,ext-key-usage,ca,pathlen,csr,hash,pss,write,label,out,der",
     "cert --key URI (--self-signed | --ca-key URI --ca-cert URI|FILE) "
     "[options]",
     "An X.509 certificate for the token key (or for --csr FILE), signed in\n"
     "the token by the key itself or by --ca-key.\n"
     "  --subject /CN=..  --days N (365)  --serial HEX (random)\n"
     "  --san DNS:..,IP:..  --key-usage digitalSignature,..\n"
     "  --ext-key-usage serverAuth,..  --ca [--pathlen N]\n"
     "  --write   store the certificate beside its key (same CKA_ID)\n"},
    {"sign", NULL, "sign data with a token key", cmd_sign,
     COMMON ",key,mechanism,in,out,der",
     "sign --key URI --mechanism MECH [--in FILE] [--out FILE] [--der]",
     "Signs data (MECH: CKM name or short name like sha256-rsa-pkcs,\n"
     "ecdsa-sha256, eddsa). --der writes ECDSA signatures as DER.\n"},
    {"verify", NULL, "verify a signature with a token key", cmd_verify,
     COMMON ",key,mechanism,in,sig,der",
     "verify --key URI --mechanism MECH --sig FILE [--in FILE] [--der]",
     "Verifies a signature in the token; exit 0 only when it is valid.\n"
     "A public key needs no PIN (unless a PIN option is given).\n"},
    {"encrypt", NULL, "encrypt data with a token key", cmd_encrypt,
     COMMON ",key,mechanism,in,out,iv,aad,hash",
     "encrypt --key URI --mechanism MECH [--iv HEX] [--in F] [--out F]",
     "Encrypts (aes-cbc-pad, aes-ctr, aes-gcm, rsa-pkcs-oaep [--hash],\n"
     "...). A public key needs no PIN (unless a PIN option is given).\n"
     "  --iv HEX   16 bytes for AES CBC and CTR (the whole counter\n"
     "             block), 8 for DES3 CBC; GCM: any length, 128-bit tag\n"
     "  --aad HEX  GCM additional data\n"
     "  --hash sha256  OAEP hash and MGF1 (default sha1)\n"},
    {"decrypt", NULL, "decrypt data with a token key", cmd_decrypt,
     COMMON ",key,mechanism,in,out,iv,aad,hash",
     "decrypt --key URI --mechanism MECH [--iv HEX] [--in F] [--out F]",
     "Decrypts with a token key.\n"},
    {"digest", NULL, "hash data in the token", cmd_digest,
     COMMON ",mechanism,in,out",
     "digest --mechanism sha256 [--in FILE] [--out FILE]",
     "Hashes data in the token; writes the digest in hex (binary with\n"
     "--out).\n"},
    {"random", NULL, "random bytes from the token", cmd_random,
     COMMON ",out,bytes", "random --bytes N [--out FILE]",
     "Random bytes from the token.\n"},
    {"wrap", NULL, "wrap a key with a token key", cmd_wrap,
     COMMON ",key,target,mechanism,iv,out",
     "wrap --key WRAPPING-URI --target URI --mechanism MECH [--out FILE]",
     "Wraps the --target key with the --key key.\n"},
    {"unwrap", NULL, "unwrap a secret key into the token", cmd_unwrap,
     COMMON ",key,mechanism,iv,in,type,label,id,extractable",
     "unwrap --key URI --mechanism MECH --type aes|generic --label L "
     "[--in FILE]",
     "Unwraps a secret key into the token.\n"
     "  --id HEX       CKA_ID of the new key (default: 16 random bytes)\n"
     "  --extractable  the unwrapped key may be wrapped out again\n"},
    {"delete", NULL, "destroy objects", cmd_delete, COMMON ",all",
     "delete URI [--all]",
     "Destroys the object the URI names; refuses when it matches several\n"
     "unless --all.\n"},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

enum {
	O_MODULE = 256,
	O_TOKEN,
	O_SLOT,
	O_PIN,
	O_PIN_SOURCE,
	O_SO_PIN,
	O_SO_PIN_SOURCE,
	O_NEW_PIN,
	O_NEW_PIN_SOURCE,
	O_LABEL,
	O_ID,
	O_USAGE,
	O_TYPE,
	O_KEY_PASS_SOURCE,
	O_KEY,
	O_CA_KEY,
	O_CA_CERT,
	O_SUBJECT,
	O_SAN,
	O_HASH,
	O_CSR,
	O_SERIAL,
	O_KEY_USAGE,
	O_EXT_KEY_USAGE,
	O_TARGET,
	O_IN,
	O_OUT,
	O_SIG,
	O_IV,
	O_AAD,
	O_MECHANISM,
	O_DAYS,
	O_PATHLEN,
	O_BYTES,
	O_PSS,
	O_EXTRACTABLE,
	O_ALWAYS_AUTH,
	O_JSON,
	O_ALL,
	O_SELF_SIGNED,
	O_CA,
	O_WRITE,
	O_LOGIN,
	O_DER,
	O_HELP,
};

static const struct option long_opts[] = {
    {"module", required_argument, NULL, O_MODULE},
    {"token", required_argument, NULL, O_TOKEN},
    {"slot", required_argument, NULL, O_SLOT},
    {"pin", required_argument, NULL, O_PIN},
    {"pin-source", required_argument, NULL, O_PIN_SOURCE},
    {"so-pin", required_argument, NULL, O_SO_PIN},
    {"so-pin-source", required_argument, NULL, O_SO_PIN_SOURCE},
    {"new-pin", required_argument, NULL, O_NEW_PIN},
    {"new-pin-source", required_argument, NULL, O_NEW_PIN_SOURCE},
    {"label", required_argument, NULL, O_LABEL},
    {"id", required_argument, NULL, O_ID},
    {"usage", required_argument, NULL, O_USAGE},
    {"type", required_argument, NULL, O_TYPE},
    {"key-pass-source", required_argument, NULL, O_KEY_PASS_SOURCE},
    {"key", required_argument, NULL, O_KEY},
    {"ca-key", required_argument, NULL, O_CA_KEY},
    {"ca-cert", required_argument, NULL, O_CA_CERT},
    {"subject", required_argument, NULL, O_SUBJECT},
    {"san", required_argument, NULL, O_SAN},
    {"hash", required_argument, NULL, O_HASH},
    {"csr", required_argument, NULL, O_CSR},
    {"serial", required_argument, NULL, O_SERIAL},
    {"key-usage", required_argument, NULL, O_KEY_USAGE},
    {"ext-key-usage", required_argument, NULL, O_EXT_KEY_USAGE},
    {"target", required_argument, NULL, O_TARGET},
    {"in", required_argument, NULL, O_IN},
    {"out", required_argument, NULL, O_OUT},
    {"sig", required_argument, NULL, O_SIG},
    {"iv", required_argument, NULL, O_IV},
    {"aad", required_argument, NULL, O_AAD},
    {"mechanism", required_argument, NULL, O_MECHANISM},
    {"days", required_argument, NULL, O_DAYS},
    {"pathlen", required_argument, NULL, O_PATHLEN},
    {"bytes", required_argument, NULL, O_BYTES},
    {"pss", no_argument, NULL, O_PSS},
    {"extractable", no_argument, NULL, O_EXTRACTABLE},
    {"always-auth", no_argument, NULL, O_ALWAYS_AUTH},
    {"json", no_argument, NULL, O_JSON},
    {"all", no_argument, NULL, O_ALL},
    {"self-signed", no_argument, NULL, O_SELF_SIGNED},
    {"ca", no_argument, NULL, O_CA},
    {"write", no_argument, NULL, O_WRITE},
    {"login", no_argument, NULL, O_LOGIN},
    {"der", no_argument, NULL, O_DER},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage_all(FILE *fp)
{
	fprintf(fp, "usage: coffer COMMAND [OPTIONS]\n\n"
		    "Commands (coffer COMMAND --help for each):\n");
	for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
		fprintf(fp, "  %-12s %s\n", cmd->name, cmd->summary);
	fprintf(fp, "\nObjects and tokens are chosen by PKCS#11 URI (RFC "
		    "7512), e.g.\npkcs11:token=web;object=tls;type=private\n");
}

static void usage_cmd(FILE *fp, const struct cli_command *cmd)
{
	fprintf(fp, "usage: coffer %s\n\n%s", cmd->usage, cmd->help);
	if (cli_list_has(cmd->opts, "pin", 3))
		fprintf(fp, "%s", HELP_COMMON);
	else if (cli_list_has(cmd->opts, "module", 6))
		fprintf(fp, "  --module PATH        PKCS#11 module\n");
}

static bool parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0';
}

static int parse(struct cli *c, const struct cli_command *cmd, int argc,
		 char **argv)
{
	struct cli_opts *o = &c->o;
	int ch, idx;

	opterr = 0;
	optind = 1;
	o->days = 365;
	o->pathlen = -1;
	o->bytes = -1;
	while ((ch = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		const char *name = NULL;

		if (ch == '?') {
			cli_err(
			    "%s: unknown option '%s' (see coffer %s --help)",
			    cmd->name, argv[optind - 1], cmd->name);
			return -1;
		}
		if (ch == 'h' || ch == O_HELP) {
			o->help = true;
			continue;
		}
		for (const struct option *lo = long_opts; lo->name; lo++)
			if (lo->val == ch)
				name = lo->name;
		if (!cli_list_has(cmd->opts, name, strlen(name))) {
			cli_err("%s: option --%s does not apply (see coffer %s "
				"--help)",
				cmd->name, name, cmd->name);
			return -1;
		}
		switch (ch) {
		case O_MODULE:
			o->module = optarg;
			break;
		case O_TOKEN:
			o->token = optarg;
			break;
		case O_SLOT:
			o->slot = optarg;
			break;
		case O_PIN:
			o->pin = optarg;
			break;
		case O_PIN_SOURCE:
			o->pin_source = optarg;
			break;
		case O_SO_PIN:
			o->so_pin = optarg;
			break;
		case O_SO_PIN_SOURCE:
			o->so_pin_source = optarg;
			break;
		case O_NEW_PIN:
			o->new_pin = optarg;
			break;
		case O_NEW_PIN_SOURCE:
			o->new_pin_source = optarg;
			break;
		case O_LABEL:
			o->label = optarg;
			break;
		case O_ID:
			o->id = optarg;
			break;
		case O_USAGE:
			o->usage = optarg;
			break;
		case O_TYPE:
			o->type = optarg;
			break;
		case O_KEY_PASS_SOURCE:
			o->key_pass_source = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_CA_KEY:
			o->ca_key = optarg;
			break;
		case O_CA_CERT:
			o->ca_cert = optarg;
			break;
		case O_SUBJECT:
			o->subject = optarg;
			break;
		case O_SAN:
			o->san = optarg;
			break;
		case O_HASH:
			o->hash = optarg;
			break;
		case O_CSR:
			o->csr = optarg;
			break;
		case O_SERIAL:
			o->serial = optarg;
			break;
		case O_KEY_USAGE:
			o->key_usage = optarg;
			break;
		case O_EXT_KEY_USAGE:
			o->ext_key_usage = optarg;
			break;
		case O_TARGET:
			o->target = optarg;
			break;
		case O_IN:
			o->in = optarg;
			break;
		case O_OUT:
			o->out = optarg;
			break;
		case O_SIG:
			o->sig = optarg;
			break;
		case O_IV:
			o->iv = optarg;
			break;
		case O_AAD:
			o->aad = optarg;
			break;
		case O_MECHANISM:
			o->mechanism = optarg;
			break;
		case O_DAYS:
		case O_PATHLEN:
		case O_BYTES: {
			long *dst = ch == O_DAYS      ? &o->days
				    : ch == O_PATHLEN ? &o->pathlen
						      : &o->bytes;
			if (!parse_long(optarg, dst) || *dst < 0) {
				cli_err("--%s: '%s' is not a number", name,
					optarg);
				return -1;
			}
			break;
		}
		case O_PSS:
			o->pss = true;
			break;
		case O_EXTRACTABLE:
			o->extractable = true;
			break;
		case O_ALWAYS_AUTH:
			o->always_auth = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_ALL:
			o->all = true;
			break;
		case O_SELF_SIGNED:
			o->self_signed = true;
			break;
		case O_CA:
			o->ca = true;
			break;
		case O_WRITE:
			o->write = true;
			break;
		case O_LOGIN:
			o->login = true;
			break;
		case O_DER:
			o->der = true;
			break;
		default:
			return -1;
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd = NULL;
	struct cli c;
	int rc;

	if (argc < 2) {
		usage_all(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage_all(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("coffer %s\n", COFFER_VERSION);
		return 0;
	}
	for (const struct cli_command *k = cli_commands; k->name; k++)
		if (strcmp(k->name, argv[1]) == 0 ||
		    (k->alias && strcmp(k->alias, argv[1]) == 0))
			cmd = k;
	if (cmd == NULL) {
		cli_err("unknown command '%s' (see coffer --help)", argv[1]);
		return 2;
	}
	memset(&c, 0, sizeof(c));
	if (parse(&c, cmd, argc - 1, argv + 1) != 0)
		return 2;
	if (c.o.help) {
		usage_cmd(stdout, cmd);
		return 0;
	}
	rc = cmd->run(&c);
	cli_module_close(&c);
	return rc;
}
