#!/usr/bin/env python3
"""Generates cofferd's request dispatchers from src/pkcs11/functions.py.

For every function that crosses the wire it writes one C function that
decodes the request payload with the codec (src/wire/codec.h), checks that
every byte was consumed, lets the policy hooks see the call (policy.c),
calls the module and encodes the reply: u64 rv, then the outputs when rv is
CKR_OK or CKR_BUFFER_TOO_SMALL (C_GetAttributeValue also on
CKR_ATTRIBUTE_SENSITIVE and CKR_ATTRIBUTE_TYPE_INVALID). It also writes the
table indexed by function id, the ids as macros, and a stub function list
(every function returns CKR_OK) that the fuzzer and the unit tests use in
place of a module.

usage: gen_dispatch.py FUNCTIONS_DIR OUT.h OUT.c
"""

import os
import sys

sys.path.insert(0, sys.argv[1])
import functions  # noqa: E402
import p11gen  # noqa: E402

# Functions whose dispatcher is hand-written (dispatch.c): the slot list is
# filtered by the token URIs.
OVERRIDES = {"C_GetSlotList"}

# Present only in CK_FUNCTION_LIST_3_0: a 2.40 module answers
# CKR_FUNCTION_NOT_SUPPORTED.
V3_ONLY = {"C_LoginUser", "C_SessionCancel"}


def is_v3(name):
    return (name in V3_ONLY or name.startswith("C_Message")
            or name.endswith("MessageBegin") or name.endswith("MessageNext")
            or name in ("C_EncryptMessage", "C_DecryptMessage",
                        "C_SignMessage", "C_VerifyMessage"))


INFO = {
    "INFO": ("CK_INFO", "cf_w_info"),
    "SLOT_INFO": ("CK_SLOT_INFO", "cf_w_slot_info"),
    "TOKEN_INFO": ("CK_TOKEN_INFO", "cf_w_token_info"),
    "SESSION_INFO": ("CK_SESSION_INFO", "cf_w_session_info"),
    "MECHANISM_INFO": ("CK_MECHANISM_INFO", "cf_w_mech_info"),
}


def gen_function(fid, name, args):
    decl = []     # local variables
    dec = []      # decoding statements
    hook = []     # filling the hook's view of the call
    cargs = []    # arguments of the module call
    rep = []      # reply encoders (outputs)
    post = []     # checks after the call, cleanup
    free = []
    nlocal = 0
    session_var = None
    key_seen = False
    for i, arg in enumerate(args):
        kind, detail = functions.split(arg)
        a = "a%d" % i
        if kind == "ulong":
            decl.append("CK_ULONG %s = 0;" % a)
            dec.append("cf_r_ulong(r, &%s);" % a)
            cargs.append(a)
            if detail == "session" and session_var is None:
                session_var = a
                hook.append("c.has_session = true; c.session = %s;" % a)
            elif detail == "slot":
                hook.append("c.has_slot = true; c.slot = %s;" % a)
            elif detail in ("key", "object") and not key_seen:
                key_seen = True
                hook.append("c.has_key = true; c.key = %s;" % a)
            elif detail == "user":
                hook.append("c.has_user = true; c.user = %s;" % a)
            elif detail == "flags":
                hook.append("c.flags = %s;" % a)
        elif kind == "bool":
            decl.append("uint8_t %s = 0;" % a)
            dec.append("cf_r_u8(r, &%s);" % a)
            cargs.append("(CK_BBOOL)(%s != 0)" % a)
        elif kind == "bytes":
            decl.append("const uint8_t *%s = NULL;" % a)
            decl.append("CK_ULONG %s_len = 0;" % a)
            dec.append("cf_r_bytes(r, &%s, &%s_len);" % (a, a))
            cargs.append("(CK_BYTE_PTR)%s" % a)
            cargs.append("%s_len" % a)
        elif kind == "label32":
            # exactly 32 raw blank-padded bytes (never NULL on the wire)
            decl.append("CK_UTF8CHAR %s[32];" % a)
            dec.append("for (size_t i = 0; i < sizeof(%s); i++)\n"
                       "\t\tcf_r_u8(r, &%s[i]);" % (a, a))
            cargs.append(a)
        elif kind == "outbuf":
            decl.append("uint8_t *%s = NULL;" % a)
            decl.append("CK_ULONG %s_len = 0, %s_cap = 0;" % (a, a))
            dec.append("cf_r_outbuf_req(r, s->out_cap, &%s, &%s_len);"
                       % (a, a))
            dec.append("%s_cap = %s_len;" % (a, a))
            cargs.append(a)
            cargs.append("&%s_len" % a)
            # A module that claims to have written more than the buffer it
            # was given is not believed: the reply would read past it.
            post.append("if (rv == CKR_OK && %s != NULL && %s_len > %s_cap)\n"
                        "\t\trv = CKR_GENERAL_ERROR;" % (a, a, a))
            rep.append("cf_w_outbuf_rep(w, rv, %s, %s_len);" % (a, a))
        elif kind == "fillbuf":
            decl.append("uint8_t *%s = NULL;" % a)
            decl.append("CK_ULONG %s_len = 0;" % a)
            dec.append("cf_r_ulong(r, &%s_len);" % a)
            post_alloc = ("if (rv == CKR_OK && %s_len > s->out_cap)\n"
                          "\t\trv = CKR_ARGUMENTS_BAD;\n"
                          "\tif (rv == CKR_OK) {\n"
                          "\t\t%s = calloc(1, %s_len > 0 ? %s_len : 1);\n"
                          "\t\tif (%s == NULL)\n"
                          "\t\t\trv = CKR_HOST_MEMORY;\n"
                          "\t}" % (a, a, a, a, a))
            hook.append("@ALLOC@" + post_alloc)
            cargs.append(a)
            cargs.append("%s_len" % a)
            # the bytes only on success (the client reads them then)
            rep.append("if (rv == CKR_OK)\n"
                       "\t\t\tcf_w_bytes(w, %s, %s_len);" % (a, a))
            free.append("if (%s != NULL) {\n"
                        "\t\tOPENSSL_cleanse(%s, %s_len);\n"
                        "\t\tfree(%s);\n\t}" % (a, a, a, a))
        elif kind == "template":
            decl.append("CK_ATTRIBUTE *%s = NULL;" % a)
            decl.append("CK_ULONG %s_n = 0;" % a)
            dec.append("cf_r_template(r, &%s, &%s_n);" % (a, a))
            cargs.append(a)
            cargs.append("%s_n" % a)
        elif kind == "getattrs":
            decl.append("CK_ATTRIBUTE *%s = NULL;" % a)
            decl.append("CK_ULONG %s_n = 0;" % a)
            dec.append("cf_r_getattrs_req(r, &%s, &%s_n);" % (a, a))
            cargs.append(a)
            cargs.append("%s_n" % a)
            rep.append("cf_w_getattrs_rep(w, %s, %s_n);" % (a, a))
        elif kind == "mech":
            decl.append("CK_MECHANISM *%s = NULL;" % a)
            dec.append("cf_r_mech(r, &%s);" % a)
            hook.append("if (%s != NULL) {\n\t\tc.has_mech = true;\n"
                        "\t\tc.mech = %s->mechanism;\n\t}" % (a, a))
            cargs.append(a)
        elif kind == "msgparam":
            decl.append("void *%s = NULL;" % a)
            decl.append("CK_ULONG %s_len = 0;" % a)
            decl.append("CK_MECHANISM_TYPE %s_mech = 0;" % a)
            dec.append("%s_mech = cf_srv_msg_mech(s, %s);"
                       % (a, session_var))
            dec.append("cf_r_msgparam_req(r, %s_mech, &%s, &%s_len);"
                       % (a, a, a))
            cargs.append(a)
            cargs.append("%s_len" % a)
            rep.append("cf_w_msgparam_rep(w, %s_mech, %s, %s_len);"
                       % (a, a, a))
        elif kind == "ulong_out":
            decl.append("CK_ULONG %s = 0;" % a)
            cargs.append("&%s" % a)
            post.append("if (rv == CKR_OK && c.nout < 2)\n"
                        "\t\tc.out[c.nout++] = %s;" % a)
            rep.append("cf_w_ulong(w, %s);" % a)
        elif kind == "ulongs_out":
            decl.append("CK_ULONG *%s = NULL;" % a)
            decl.append("CK_ULONG %s_n = 0;" % a)
            dec.append("cf_r_ulongs_req(r, &%s, &%s_n);" % (a, a))
            cargs.append(a)
            cargs.append("&%s_n" % a)
            rep.append("cf_w_ulongs_rep(w, rv, %s, %s_n);" % (a, a))
        elif kind == "handles_out":
            decl.append("CK_ULONG *%s = NULL;" % a)
            decl.append("CK_ULONG %s_max = 0, %s_n = 0;" % (a, a))
            dec.append("cf_r_ulongs_req(r, &%s, &%s_max);" % (a, a))
            cargs.append(a)
            cargs.append("%s_max" % a)
            cargs.append("&%s_n" % a)
            post.append("if (rv == CKR_OK && %s_n > %s_max)\n"
                        "\t\trv = CKR_GENERAL_ERROR;" % (a, a))
            rep.append("cf_w_ulongs_rep(w, rv, %s, %s_n);" % (a, a))
        elif kind == "info_out":
            ctype, enc = INFO[detail]
            decl.append("%s %s;" % (ctype, a))
            dec.append("memset(&%s, 0, sizeof(%s));" % (a, a))
            cargs.append("&%s" % a)
            rep.append("%s(w, &%s);" % (enc, a))
        elif kind == "local":
            cargs.append("NULL")
            nlocal += 1
        else:
            raise SystemExit("%s: unknown kind %s" % (name, kind))

    out = []
    out.append("static int d_%s(struct cf_srv *s, struct cf_win *r,\n"
               "\t\tstruct cf_wout *w)" % name)
    out.append("{")
    for d in decl:
        out.append("\t" + d)
    out.append("\tstruct cf_srv_call c = {.fn = %d, .name = \"%s\"};"
               % (fid, name))
    out.append("\tCK_RV rv;")
    out.append("")
    for d in dec:
        out.append("\t" + d)
    out.append("\tif (!cf_win_done(r))")
    out.append("\t\treturn -EBADMSG;")
    allocs = []
    for h in hook:
        if h.startswith("@ALLOC@"):
            allocs.append(h[len("@ALLOC@"):])
        else:
            out.append("\t" + h)
    out.append("\trv = cf_srv_pre(s, &c);")
    for al in allocs:
        out.append("\t" + al)
    if is_v3(name):
        cond = "!s->v3 || s->fl->%s == NULL" % name
    else:
        cond = "s->fl->%s == NULL" % name
    out.append("\tif (rv == CKR_OK && (%s))" % cond)
    out.append("\t\trv = CKR_FUNCTION_NOT_SUPPORTED;")
    out.append("\tif (rv == CKR_OK)")
    out.append("\t\trv = s->fl->%s(%s);" % (name, ", ".join(cargs)))
    for p in post:
        out.append("\t" + p)
    out.append("\tcf_srv_post(s, &c, rv);")
    out.append("\tcf_w_u64(w, rv);")
    if rep:
        if name == "C_GetAttributeValue":
            out.append("\tif (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL ||\n"
                       "\t    rv == CKR_ATTRIBUTE_SENSITIVE ||\n"
                       "\t    rv == CKR_ATTRIBUTE_TYPE_INVALID) {")
        else:
            out.append("\tif (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) {")
        for x in rep:
            out.append("\t\t" + x)
        out.append("\t}")
    for f in free:
        out.append("\t" + f)
    out.append("\treturn 0;")
    out.append("}")
    return "\n".join(out)


def ctypes_of(name, args):
    """The C parameter types of the module function, for the stubs."""
    return [t for _, _, cs in p11gen.c_params(name, args) for t, _ in cs]


def main():
    out_h, out_c = sys.argv[2], sys.argv[3]
    wire = functions.wire_functions()
    maxid = max(f[0] for f in functions.FUNCTIONS)

    h = ["/* Generated by src/server/gen_dispatch.py: do not edit. */",
         "#ifndef CF_SERVER_DISPATCH_GEN_H",
         "#define CF_SERVER_DISPATCH_GEN_H",
         "",
         "#define CF_SRV_FN_MAX %d" % maxid]
    for fid, name, _ in functions.FUNCTIONS:
        h.append("#define CF_SRV_FN_%s %d" % (name, fid))
    h.append("")
    h.append("#endif")

    c = ["/* Generated by src/server/gen_dispatch.py: do not edit. */",
         "#include <errno.h>",
         "#include <stdlib.h>",
         "#include <string.h>",
         "",
         "#include <openssl/crypto.h>",
         "",
         "#include \"server/dispatch.h\"",
         "#include \"wire/codec.h\"",
         ""]
    for fid, name, args in wire:
        if name in OVERRIDES:
            continue
        c.append(gen_function(fid, name, args))
        c.append("")

    c.append("const struct cf_srv_fn cf_srv_fns[CF_SRV_FN_MAX + 1] = {")
    for fid, name, args in functions.FUNCTIONS:
        if args == functions.LOCAL:
            c.append("\t[%d] = {\"%s\", NULL}," % (fid, name))
        elif name in OVERRIDES:
            c.append("\t[%d] = {\"%s\", cf_srv_%s}," % (fid, name, name))
        else:
            c.append("\t[%d] = {\"%s\", d_%s}," % (fid, name, name))
    c.append("};")
    c.append("")

    # The stub module: every wire function returns CKR_OK and writes
    # nothing, which every output convention allows (lengths stay as
    # offered, handles 0).
    for fid, name, args in wire:
        types = ctypes_of(name, args)
        params = ", ".join("%s p%d" % (t, i) for i, t in enumerate(types))
        c.append("static CK_RV stub_%s(%s)" % (name, params))
        c.append("{")
        for i in range(len(types)):
            c.append("\t(void)p%d;" % i)
        c.append("\treturn CKR_OK;")
        c.append("}")
        c.append("")
    c.append("static CK_FUNCTION_LIST_3_0 stub_list = {")
    c.append("\t.version = {3, 0},")
    for fid, name, args in wire:
        c.append("\t.%s = stub_%s," % (name, name))
    c.append("};")
    c.append("")
    c.append("CK_FUNCTION_LIST_3_0 *cf_srv_stub_list(void)")
    c.append("{")
    c.append("\treturn &stub_list;")
    c.append("}")

    with open(out_h, "w") as f:
        f.write("\n".join(h) + "\n")
    with open(out_c, "w") as f:
        f.write("\n".join(c) + "\n")


if __name__ == "__main__":
    main()
