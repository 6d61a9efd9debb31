#!/usr/bin/env python3
"""Generates libcoffer-client.so's stubs from src/pkcs11/functions.py.

Usage: gen_stubs.py FUNCTIONS_DIR OUT.h OUT.c

For every function that crosses the wire, three pieces of C:

  cf_client_dec_NAME   decodes a reply payload (u64 rv, then the outputs
                       when the rv says they are there) into the caller's
                       output parameters. Bounded: every read goes through
                       the codec, and trailing bytes are an error. This is
                       what tests/fuzz/fuzz_client_reply.c feeds.
  cf_client_NAME       the entry point: library and session checks, the
                       argument checks the specification leaves to the
                       caller side and that must not crash the client, the
                       request encoding, one round trip, the decoder, and
                       the session-table bookkeeping of a few functions.
  cf_client_fuzz_reply a switch that runs one decoder on arbitrary bytes
                       with scratch outputs.

Functions flagged LOCAL are written by hand (library.c, module.c).
"""
import os
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else
                os.path.join(os.path.dirname(__file__), "..", "pkcs11"))
import functions  # noqa: E402
import p11gen  # noqa: E402

# The reader of each info_out structure (its C type: p11gen.INFO_CTYPES).
INFO_READERS = {
    "INFO": "cf_r_info",
    "SLOT_INFO": "cf_r_slot_info",
    "TOKEN_INFO": "cf_r_token_info",
    "SESSION_INFO": "cf_r_session_info",
    "MECHANISM_INFO": "cf_r_mech_info",
}

# The message operation each message-based function belongs to (the index
# into the session's message mechanisms, client.h CF_MSG_*).
MSG_OP = {}
for op, names in (
        ("CF_MSG_ENCRYPT", ["C_MessageEncryptInit", "C_EncryptMessage",
                            "C_EncryptMessageBegin", "C_EncryptMessageNext",
                            "C_MessageEncryptFinal"]),
        ("CF_MSG_DECRYPT", ["C_MessageDecryptInit", "C_DecryptMessage",
                            "C_DecryptMessageBegin", "C_DecryptMessageNext",
                            "C_MessageDecryptFinal"]),
        ("CF_MSG_SIGN", ["C_MessageSignInit", "C_SignMessage",
                         "C_SignMessageBegin", "C_SignMessageNext",
                         "C_MessageSignFinal"]),
        ("CF_MSG_VERIFY", ["C_MessageVerifyInit", "C_VerifyMessage",
                           "C_VerifyMessageBegin", "C_VerifyMessageNext",
                           "C_MessageVerifyFinal"])):
    for n in names:
        MSG_OP[n] = op


# The operations a function belongs to: an error it finds in its arguments
# ends them (v3.0 5.2), so when the client finds it locally it ends the
# server's operation with C_SessionCancel. Message-based calls are not here:
# their errors leave the message operation active.
OP_ENDS = {}
for flags, names in (
        ("CKF_ENCRYPT", ["C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal"]),
        ("CKF_DECRYPT", ["C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal"]),
        ("CKF_DIGEST", ["C_Digest", "C_DigestUpdate", "C_DigestFinal"]),
        ("CKF_SIGN", ["C_Sign", "C_SignUpdate", "C_SignFinal"]),
        ("CKF_SIGN_RECOVER", ["C_SignRecover"]),
        ("CKF_VERIFY", ["C_Verify", "C_VerifyUpdate", "C_VerifyFinal"]),
        ("CKF_VERIFY_RECOVER", ["C_VerifyRecover"]),
        ("CKF_DIGEST | CKF_ENCRYPT", ["C_DigestEncryptUpdate"]),
        ("CKF_DECRYPT | CKF_DIGEST", ["C_DecryptDigestUpdate"]),
        ("CKF_SIGN | CKF_ENCRYPT", ["C_SignEncryptUpdate"]),
        ("CKF_DECRYPT | CKF_VERIFY", ["C_DecryptVerifyUpdate"])):
    for n in names:
        OP_ENDS[n] = flags


# Inits whose repeats may be deferred into the session's next request
# (docs/client.md, "Deferred initialisation").
CHAIN_INITS = ("C_EncryptInit", "C_DecryptInit", "C_DigestInit", "C_SignInit",
               "C_VerifyInit")
# Calls after which a remembered init may no longer succeed: they move the
# epoch before and after their round trip, so an init recorded while they
# ran is stale too.
EPOCH_BUMPERS = ("C_Logout", "C_DestroyObject", "C_SetAttributeValue",
                 "C_CloseSession", "C_CloseAllSessions", "C_InitToken",
                 "C_InitPIN", "C_SetPIN", "C_SessionCancel")


# Calls that certainly end their operation when they succeed with output
# (not a length query): the init of that kind may be deferred again. Keyed
# by the wire id of the kind's init.
OP_DONE = {}
for init, names in (
        (35, ["C_Encrypt", "C_EncryptFinal"]),
        (39, ["C_Decrypt", "C_DecryptFinal"]),
        (53, ["C_Digest", "C_DigestFinal"]),
        (58, ["C_Sign", "C_SignFinal"]),
        (69, ["C_Verify", "C_VerifyFinal"])):
    for n in names:
        OP_DONE[n] = init
# Calls that may start (or restore) an operation the module may count as of
# that kind: its init is not deferred until an operation is seen to end.
OP_BUSY = {
    "C_SignRecoverInit": [58], "C_VerifyRecoverInit": [69],
    "C_MessageEncryptInit": [35], "C_MessageDecryptInit": [39],
    "C_MessageSignInit": [58], "C_MessageVerifyInit": [69],
    "C_SetOperationState": [35, 39, 53, 58, 69],
}


def params(name, args):
    """[(kind, detail, [(ctype, cname), ...]), ...] in prototype order."""
    return p11gen.c_params(name, args)


def proto(name, ps):
    return p11gen.c_proto(cs for _, _, cs in ps)


def is_session(ps):
    return bool(ps) and ps[0][0] == "ulong" and ps[0][1] == "session"


# Outputs the decoder writes, in argument order: (kind, detail, cnames).
OUT_KINDS = ("outbuf", "fillbuf", "ulong_out", "ulongs_out", "handles_out",
             "info_out", "getattrs", "msgparam")


def dec_params(name, ps):
    """The decoder's parameters: the outputs (and msgparam's mechanism)."""
    flat = []
    for kind, detail, cs in ps:
        if kind not in OUT_KINDS:
            continue
        if kind == "msgparam":
            flat.append(("CK_MECHANISM_TYPE", cs[0][1] + "_mech"))
        flat.extend(cs)
    return flat


def emit_decoder(o, fid, name, ps):
    flat = dec_params(name, ps)
    o.append("CK_RV cf_client_dec_%s(%s)" % (name, ", ".join(
        ["struct cf_win *r"] + ["%s %s" % (t, n) for t, n in flat])))
    o.append("{")
    o.append("\tCK_RV rv;")
    o.append("")
    o.append("\tif (!cf_client_read_rv(r, &rv))")
    o.append("\t\treturn CKR_DEVICE_ERROR;")
    cond = "rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL"
    if name == "C_GetAttributeValue":
        cond += (" ||\n\t    rv == CKR_ATTRIBUTE_SENSITIVE ||"
                 "\n\t    rv == CKR_ATTRIBUTE_TYPE_INVALID")
    body = []
    for kind, detail, cs in ps:
        v = cs[0][1]
        if kind == "outbuf":
            body.append("cf_r_outbuf_rep(r, rv, %s, %s_len);" % (v, v))
        elif kind == "fillbuf":
            body.append("cf_client_r_fillbuf(r, rv, %s, %s_len);" % (v, v))
        elif kind == "ulong_out":
            body.append("cf_r_ulong(r, %s);" % v)
        elif kind == "ulongs_out":
            body.append("cf_r_ulongs_rep(r, rv, %s, %s_n);" % (v, v))
        elif kind == "handles_out":
            body.append("cf_client_r_handles(r, rv, %s, %s_max, %s_n);"
                        % (v, v, v))
        elif kind == "info_out":
            body.append("%s(r, %s);" % (INFO_READERS[detail], v))
        elif kind == "getattrs":
            body.append("cf_r_getattrs_rep(r, %s, %s_n);" % (v, v))
        elif kind == "msgparam":
            body.append("cf_r_msgparam_rep(r, %s_mech, %s, %s_len);"
                        % (v, v, v))
    if body:
        o.append("\tif (%s) {" % cond)
        for b in body:
            # Each reader marks r bad on failure; cf_win_done checks once.
            o.append("\t\t(void)%s" % b)
        o.append("\t}")
    o.append("\tif (!cf_win_done(r))")
    o.append("\t\treturn CKR_DEVICE_ERROR;")
    o.append("\treturn rv;")
    o.append("}")
    o.append("")


def emit_stub(o, fid, name, ps):
    session = is_session(ps)
    msg_op = MSG_OP.get(name)
    o.append("CK_RV cf_client_%s(%s)" % (name, proto(name, ps)))
    o.append("{")
    o.append("\tstruct cf_client_call c;")
    if name == "C_OpenSession":
        o.append("\tCK_ULONG remote = CK_INVALID_HANDLE;")
    if name in CHAIN_INITS:
        o.append("\tuint64_t at;")
    o.append("\tCK_RV rv;")
    o.append("")
    if session:
        o.append("\trv = cf_client_begin_session(&c, %d, %s, %s);"
                 % (fid, ps[0][2][0][1], msg_op or "CF_MSG_NONE"))
    else:
        o.append("\trv = cf_client_begin(&c, %d);" % fid)
    o.append("\tif (rv != CKR_OK)")
    o.append("\t\treturn rv;")
    # Caller-side argument checks.
    checks = []
    for kind, detail, cs in ps:
        v = cs[0][1]
        if kind == "fillbuf":
            # The reply is copied into it.
            checks.append(("%s == NULL && %s_len != 0" % (v, v),
                           "CKR_ARGUMENTS_BAD"))
        # bytes: NULL with a length crosses as such and the module judges
        # it (docs/protocol.md), ending its operation as it sees fit.
        elif kind == "msgparam":
            checks.append(("%s == NULL && %s_len != 0" % (v, v),
                           "CKR_ARGUMENTS_BAD"))
        elif kind in ("template", "getattrs"):
            checks.append(("%s == NULL && %s_n != 0" % (v, v),
                           "CKR_ARGUMENTS_BAD"))
        elif kind in ("label32", "ulong_out", "info_out", "mech"):
            checks.append(("%s == NULL" % v, "CKR_ARGUMENTS_BAD"))
        elif kind == "outbuf":
            checks.append(("%s_len == NULL" % v, "CKR_ARGUMENTS_BAD"))
        elif kind == "ulongs_out":
            checks.append(("%s_n == NULL" % v, "CKR_ARGUMENTS_BAD"))
        elif kind == "handles_out":
            checks.append(("%s_n == NULL || (%s == NULL && %s_max != 0)"
                           % (v, v, v), "CKR_ARGUMENTS_BAD"))
    for kind, detail, cs in ps:
        v = cs[0][1]
        if kind == "mech":
            checks.append(("!cf_mech_encodable(%s)" % v,
                           "CKR_MECHANISM_PARAM_INVALID"))
        elif kind == "msgparam":
            # The message operation's mechanism says how to lay the
            # parameter out; without one there is no operation.
            checks.append(("!c.msg_active", "CKR_OPERATION_NOT_INITIALIZED"))
            checks.append(("!cf_msgparam_encodable(c.msg_mech, %s, %s_len)"
                           % (v, v), "CKR_MECHANISM_PARAM_INVALID"))
    ends = OP_ENDS.get(name)
    for cond, code in checks:
        o.append("\tif (%s) {" % cond)
        o.append("\t\trv = %s;" % code)
        if ends and code == "CKR_ARGUMENTS_BAD":
            # The module would have ended the operation on this error
            # (v3.0 5.2); the server's copy of it must end too.
            o.append("\t\tcf_client_end_op(&c, %s);" % ends)
        o.append("\t\tgoto out;")
        o.append("\t}")
    # Request.
    for i, (kind, detail, cs) in enumerate(ps):
        v = cs[0][1]
        if i == 0 and session:
            o.append("\tcf_w_ulong(&c.req, c.remote);")
        elif kind == "ulong":
            o.append("\tcf_w_ulong(&c.req, %s);" % v)
        elif kind == "bool":
            o.append("\tcf_w_u8(&c.req, %s);" % v)
        elif kind == "bytes":
            o.append("\tcf_w_bytes(&c.req, %s, %s_len);" % (v, v))
        elif kind == "label32":
            o.append("\tcf_w_raw(&c.req, %s, 32);" % v)
        elif kind == "outbuf":
            o.append("\tcf_w_outbuf_req(&c.req, %s, %s_len);" % (v, v))
        elif kind == "fillbuf":
            o.append("\tcf_w_ulong(&c.req, %s_len);" % v)
        elif kind == "template":
            o.append("\tcf_w_template(&c.req, %s, %s_n);" % (v, v))
        elif kind == "getattrs":
            o.append("\tcf_w_getattrs_req(&c.req, %s, %s_n);" % (v, v))
        elif kind == "mech":
            o.append("\tcf_w_mech(&c.req, %s);" % v)
        elif kind == "msgparam":
            o.append("\tcf_w_msgparam_req(&c.req, c.msg_mech, %s, %s_len);"
                     % (v, v))
        elif kind == "ulongs_out":
            o.append("\tcf_w_ulongs_req(&c.req, %s, %s_n);" % (v, v))
        elif kind == "handles_out":
            o.append("\tcf_w_ulongs_req(&c.req, %s, &%s_max);" % (v, v))
        # ulong_out, info_out, local: nothing crosses in the request.
    for kind, detail, cs in ps:
        if kind == "local":
            o.append("\t(void)%s; /* stays in this process */" % cs[0][1])
    if name in CHAIN_INITS:
        # The same request succeeded before and nothing since could
        # change its outcome: it goes out with the session's next call.
        o.append("\tat = cf_client_epoch();")
        o.append("\tif (!c.req.bad &&")
        o.append("\t    cf_client_session_defer(c.local, %d, c.req.data, "
                 "c.req.len)) {" % fid)
        o.append("\t\trv = CKR_OK;")
        o.append("\t\tgoto out;")
        o.append("\t}")
    for init in OP_BUSY.get(name, []):
        o.append("\tcf_client_session_op_idle(c.local, %d, false);" % init)
    if name in EPOCH_BUMPERS:
        o.append("\tcf_client_epoch_bump();")
    o.append("\trv = cf_client_roundtrip(&c);")
    if name in EPOCH_BUMPERS:
        o.append("\tcf_client_epoch_bump();")
    if name == "C_CloseSession":
        # A session whose connection is gone is closed all the same.
        o.append("\tif (rv == CKR_SESSION_HANDLE_INVALID ||")
        o.append("\t    rv == CKR_DEVICE_REMOVED)")
        o.append("\t\tcf_client_session_remove(c.local);")
    o.append("\tif (rv != CKR_OK)")
    o.append("\t\tgoto out;")
    dec_args = ["&c.rd"]
    for kind, detail, cs in ps:
        if kind not in OUT_KINDS:
            continue
        if kind == "msgparam":
            dec_args.append("c.msg_mech")
        dec_args.extend(n for _, n in cs)
    if name == "C_OpenSession":
        # The remote handle never reaches the application: the local
        # table hands out its own (client.h).
        o.append("\trv = cf_client_dec_%s(%s);" % (name, ", ".join(
            d if d != ps[4][2][0][1] else "&remote" for d in dec_args)))
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\trv = cf_client_session_add(&c, a0, remote, %s);"
                 % ps[4][2][0][1])
    else:
        o.append("\trv = cf_client_dec_%s(%s);" % (name, ", ".join(dec_args)))
    if name in OP_DONE:
        outs = [cs[0][1] for kind, _, cs in ps if kind == "outbuf"]
        cond = "rv == CKR_OK" + "".join(" && %s != NULL" % v for v in outs)
        o.append("\tif (%s)" % cond)
        o.append("\t\tcf_client_session_op_idle(c.local, %d, true);"
                 % OP_DONE[name])
    if name in CHAIN_INITS:
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_client_session_record(c.local, %d, c.req.data, "
                 "c.req.len, at);" % fid)
    if name == "C_CloseSession":
        o.append("\tif (rv == CKR_OK || rv == CKR_SESSION_HANDLE_INVALID ||")
        o.append("\t    rv == CKR_SESSION_CLOSED)")
        o.append("\t\tcf_client_session_remove(c.local);")
    elif name == "C_CloseAllSessions":
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_client_session_remove_slot(a0);")
    elif name.startswith("C_Message") and name.endswith("Init"):
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_client_session_msg(c.local, %s, %s->mechanism, "
                 "true);" % (msg_op, ps[1][2][0][1]))
    elif name.startswith("C_Message") and name.endswith("Final"):
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_client_session_msg(c.local, %s, 0, false);"
                 % msg_op)
    elif name == "C_SessionCancel":
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_client_session_cancel(c.local, a1);")
    o.append("out:")
    o.append("\tcf_client_end(&c);")
    o.append("\treturn rv;")
    o.append("}")
    o.append("")


def fuzz_case(o, fid, name, ps):
    """One case of cf_client_fuzz_reply: scratch outputs, one decode."""
    o.append("\tcase %d: { /* %s */" % (fid, name))
    args = ["r"]
    for kind, detail, cs in ps:
        if kind not in OUT_KINDS:
            continue
        v = cs[0][1]
        if kind == "outbuf":
            o.append("\t\tCK_ULONG %s_len = sizeof(f->buf);" % v)
            args += ["f->buf", "&%s_len" % v]
        elif kind == "fillbuf":
            args += ["f->buf", "sizeof(f->buf)"]
        elif kind == "ulong_out":
            o.append("\t\tCK_ULONG %s = 0;" % v)
            args += ["&%s" % v]
        elif kind == "ulongs_out":
            o.append("\t\tCK_ULONG %s_n = CF_FUZZ_NUL;" % v)
            args += ["f->ulongs", "&%s_n" % v]
        elif kind == "handles_out":
            o.append("\t\tCK_ULONG %s_n = 0;" % v)
            args += ["f->ulongs", "CF_FUZZ_NUL", "&%s_n" % v]
        elif kind == "info_out":
            t = p11gen.INFO_CTYPES[detail]
            o.append("\t\t%s %s;" % (t, v))
            args += ["&%s" % v]
        elif kind == "getattrs":
            args += ["f->attrs", "CF_FUZZ_NATTR"]
        elif kind == "msgparam":
            args += ["mech", "param", "param_len"]
    o.append("\t\treturn cf_client_dec_%s(%s);" % (name, ", ".join(args)))
    o.append("\t}")


def main():
    out_h, out_c = sys.argv[2], sys.argv[3]
    wire = functions.wire_functions()
    h = ["/* Generated by src/client/gen_stubs.py from src/pkcs11/functions.py;",
         " * do not edit. */",
         "#ifndef CF_CLIENT_STUBS_H",
         "#define CF_CLIENT_STUBS_H",
         "",
         "#include <stddef.h>",
         "#include <stdint.h>",
         "",
         "#include \"coffer/pkcs11.h\"",
         "#include \"wire/codec.h\"",
         "",
         "#define CF_CLIENT_NWIRE %d" % len(wire),
         "/* The wire id of the i-th function that crosses the wire. */",
         "extern const uint16_t cf_client_wire_ids[CF_CLIENT_NWIRE];",
         ""]
    c = ["/* Generated by src/client/gen_stubs.py from src/pkcs11/functions.py;",
         " * do not edit. */",
         "#include \"client/client.h\"",
         "#include \"client/stubs.h\"",
         "",
         "const uint16_t cf_client_wire_ids[CF_CLIENT_NWIRE] = {",
         "\t" + ", ".join(str(f[0]) for f in wire) + ",",
         "};",
         ""]
    for fid, name, args in wire:
        ps = params(name, args)
        flat = dec_params(name, ps)
        h.append("CK_RV cf_client_%s(%s);" % (name, proto(name, ps)))
        h.append("CK_RV cf_client_dec_%s(%s);" % (name, ", ".join(
            ["struct cf_win *r"] + ["%s %s" % (t, n) for t, n in flat])))
        emit_decoder(c, fid, name, ps)
        emit_stub(c, fid, name, ps)
    h += ["",
          "/* Runs the decoder of wire function fn on r with the scratch",
          " * outputs in f (client.h); param is a msgparam of mechanism mech.",
          " * CKR_FUNCTION_NOT_SUPPORTED for an fn that is not on the wire. */",
          "struct cf_fuzz_scratch;",
          "CK_RV cf_client_fuzz_one(struct cf_fuzz_scratch *f, struct cf_win *r,",
          "\t\t\t uint16_t fn, CK_MECHANISM_TYPE mech, void *param,",
          "\t\t\t CK_ULONG param_len);",
          "",
          "#endif",
          ""]
    c += ["CK_RV cf_client_fuzz_one(struct cf_fuzz_scratch *f, struct cf_win *r,",
          "\t\t\t uint16_t fn, CK_MECHANISM_TYPE mech, void *param,",
          "\t\t\t CK_ULONG param_len)",
          "{",
          "\tswitch (fn) {"]
    for fid, name, args in wire:
        fuzz_case(c, fid, name, params(name, args))
    c += ["\tdefault:",
          "\t\treturn CKR_FUNCTION_NOT_SUPPORTED;",
          "\t}",
          "}",
          ""]
    with open(out_h, "w") as fh:
        fh.write("\n".join(h))
    with open(out_c, "w") as fc:
        fc.write("\n".join(c))


if __name__ == "__main__":
    main()
