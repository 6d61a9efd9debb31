#!/usr/bin/env python3
"""Generates libcoffer-spy.so's wrappers from src/pkcs11/functions.py.

Usage: gen_spy.py FUNCTIONS_DIR OUT.h OUT.c

For every function that is not LOCAL, one wrapper cf_spy_NAME with the
function's prototype: it starts a log entry, decodes each input argument by
its kind (spy.h), calls the real module's function (a 3.0 function only
when the real module offers the 3.0 interface), then logs the return value,
the time and the outputs, and writes the entry. The arguments and results
pass through untouched. The LOCAL functions (library set-up, the function
and interface lists, the slot-event and legacy parallel calls) are written
by hand in module.c with the same decoder.

Also emitted: cf_spy_fn_name, the name of every function id, for the
summary at C_Finalize.
"""
import os
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else
                os.path.join(os.path.dirname(__file__), "..", "pkcs11"))
import functions  # noqa: E402
import p11gen  # noqa: E402

# The decoder of each info_out structure (its C type: p11gen.INFO_CTYPES).
INFO_DECODERS = {
    "INFO": "cf_spy_info",
    "SLOT_INFO": "cf_spy_slot_info",
    "TOKEN_INFO": "cf_spy_token_info",
    "SESSION_INFO": "cf_spy_session_info",
    "MECHANISM_INFO": "cf_spy_mech_info",
}

# The functions a 2.40 CK_FUNCTION_LIST lacks: reached only through the
# real module's 3.0 interface.
V3_ONLY = {
    "C_LoginUser", "C_SessionCancel",
    "C_MessageEncryptInit", "C_EncryptMessage", "C_EncryptMessageBegin",
    "C_EncryptMessageNext", "C_MessageEncryptFinal",
    "C_MessageDecryptInit", "C_DecryptMessage", "C_DecryptMessageBegin",
    "C_DecryptMessageNext", "C_MessageDecryptFinal",
    "C_MessageSignInit", "C_SignMessage", "C_SignMessageBegin",
    "C_SignMessageNext", "C_MessageSignFinal",
    "C_MessageVerifyInit", "C_VerifyMessage", "C_VerifyMessageBegin",
    "C_VerifyMessageNext", "C_MessageVerifyFinal",
}

# The message operation each message-based function belongs to, for the
# layout of its parameter.
MSG_OP = {}
for op, names in (
        ("CF_SPY_MSG_ENCRYPT", ["C_MessageEncryptInit", "C_EncryptMessage",
                                "C_EncryptMessageBegin",
                                "C_EncryptMessageNext",
                                "C_MessageEncryptFinal"]),
        ("CF_SPY_MSG_DECRYPT", ["C_MessageDecryptInit", "C_DecryptMessage",
                                "C_DecryptMessageBegin",
                                "C_DecryptMessageNext",
                                "C_MessageDecryptFinal"]),
        ("CF_SPY_MSG_SIGN", ["C_MessageSignInit", "C_SignMessage",
                             "C_SignMessageBegin", "C_SignMessageNext",
                             "C_MessageSignFinal"]),
        ("CF_SPY_MSG_VERIFY", ["C_MessageVerifyInit", "C_VerifyMessage",
                               "C_VerifyMessageBegin", "C_VerifyMessageNext",
                               "C_MessageVerifyFinal"])):
    for n in names:
        MSG_OP[n] = op

# Which CKF_ names a function's flags argument is read with.
FLAGSET = {
    "C_OpenSession": "CF_SPY_F_SESSION",
    "C_SessionCancel": "CF_SPY_F_MECH",
    "C_EncryptMessageNext": "CF_SPY_F_MSG",
    "C_DecryptMessageNext": "CF_SPY_F_MSG",
}

ROLE = {
    "session": "CF_SPY_NUMBER", "slot": "CF_SPY_NUMBER",
    "object": "CF_SPY_NUMBER", "key": "CF_SPY_NUMBER",
    "count": "CF_SPY_NUMBER", "user": "CF_SPY_USER",
    "state": "CF_SPY_STATE", "mech_type": "CF_SPY_MECH_TYPE",
}

# Argument names as the specification's prototypes spell them, where the
# default of the kind is not it (None keeps the default).
DEFAULT_NAME = {
    ("ulong", "session"): "hSession", ("ulong", "slot"): "slotID",
    ("ulong", "object"): "hObject", ("ulong", "key"): "hKey",
    ("ulong", "flags"): "flags", ("ulong", "user"): "userType",
    ("ulong", "mech_type"): "type", ("ulong", "count"): "ulCount",
    ("ulong", "state"): "state",
    ("bool", None): "tokenPresent", ("bytes", None): "pData",
    ("bytes", "secret"): "pPin", ("label32", None): "pLabel",
    ("outbuf", None): "pOut", ("fillbuf", None): "RandomData",
    ("template", None): "pTemplate", ("getattrs", None): "pTemplate",
    ("mech", None): "pMechanism", ("msgparam", None): "pParameter",
    ("ulong_out", "object"): "phObject", ("ulong_out", "key"): "phKey",
    ("ulong_out", "session"): "phSession", ("ulong_out", "count"): "pulSize",
    ("ulongs_out", "slot"): "pSlotList",
    ("ulongs_out", "mech_type"): "pMechanismList",
    ("handles_out", None): "phObject",
}
_ = None
NAMES = {
    "C_SetPIN": [_, "pOldPin", "pNewPin"],
    "C_OpenSession": [_, _, "pApplication", "Notify", _],
    "C_GetOperationState": [_, "pOperationState"],
    "C_SetOperationState": [_, "pOperationState", "hEncryptionKey",
                            "hAuthenticationKey"],
    "C_LoginUser": [_, _, _, "pUsername"],
    "C_CopyObject": [_, _, _, "phNewObject"],
    "C_Encrypt": [_, "pData", "pEncryptedData"],
    "C_EncryptUpdate": [_, "pPart", "pEncryptedPart"],
    "C_EncryptFinal": [_, "pLastEncryptedPart"],
    "C_Decrypt": [_, "pEncryptedData", "pData"],
    "C_DecryptUpdate": [_, "pEncryptedPart", "pPart"],
    "C_DecryptFinal": [_, "pLastPart"],
    "C_EncryptMessage": [_, _, "pAssociatedData", "pPlaintext",
                         "pCiphertext"],
    "C_EncryptMessageBegin": [_, _, "pAssociatedData"],
    "C_EncryptMessageNext": [_, _, "pPlaintextPart", "pCiphertextPart", _],
    "C_DecryptMessage": [_, _, "pAssociatedData", "pCiphertext",
                         "pPlaintext"],
    "C_DecryptMessageBegin": [_, _, "pAssociatedData"],
    "C_DecryptMessageNext": [_, _, "pCiphertextPart", "pPlaintextPart", _],
    "C_Digest": [_, _, "pDigest"],
    "C_DigestUpdate": [_, "pPart"],
    "C_DigestFinal": [_, "pDigest"],
    "C_Sign": [_, _, "pSignature"],
    "C_SignUpdate": [_, "pPart"],
    "C_SignFinal": [_, "pSignature"],
    "C_SignRecover": [_, _, "pSignature"],
    "C_SignMessage": [_, _, _, "pSignature"],
    "C_SignMessageNext": [_, _, _, "pSignature"],
    "C_Verify": [_, _, "pSignature"],
    "C_VerifyUpdate": [_, "pPart"],
    "C_VerifyFinal": [_, "pSignature"],
    "C_VerifyRecover": [_, "pSignature", "pData"],
    "C_VerifyMessage": [_, _, _, "pSignature"],
    "C_VerifyMessageNext": [_, _, _, "pSignature"],
    "C_DigestEncryptUpdate": [_, "pPart", "pEncryptedPart"],
    "C_DecryptDigestUpdate": [_, "pEncryptedPart", "pPart"],
    "C_SignEncryptUpdate": [_, "pPart", "pEncryptedPart"],
    "C_DecryptVerifyUpdate": [_, "pEncryptedPart", "pPart"],
    "C_GenerateKeyPair": [_, _, "pPublicKeyTemplate", "pPrivateKeyTemplate",
                          "phPublicKey", "phPrivateKey"],
    "C_WrapKey": [_, _, "hWrappingKey", "hKey", "pWrappedKey"],
    "C_UnwrapKey": [_, _, "hUnwrappingKey", "pWrappedKey", _, _],
    "C_DeriveKey": [_, _, "hBaseKey", _, _],
    "C_SeedRandom": [_, "pSeed"],
}

# Arguments whose bytes are secret beyond the PINs (bytes:secret): the
# plaintexts going in (encrypt) and out (decrypt), operation state (it
# holds key schedules and partial plaintext), seeds and random output.
SECRET = {
    "C_Encrypt": {1}, "C_EncryptUpdate": {1},
    "C_EncryptMessage": {3}, "C_EncryptMessageNext": {2},
    "C_DigestEncryptUpdate": {1}, "C_SignEncryptUpdate": {1},
    "C_Decrypt": {2}, "C_DecryptUpdate": {2}, "C_DecryptFinal": {1},
    "C_DecryptMessage": {4}, "C_DecryptMessageNext": {3},
    "C_DecryptDigestUpdate": {2}, "C_DecryptVerifyUpdate": {2},
    "C_GetOperationState": {1}, "C_SetOperationState": {1},
    "C_SeedRandom": {1}, "C_GenerateRandom": {1},
}


def params(name, args):
    """[(kind, detail, argname, [(ctype, cname), ...]), ...]."""
    out = []
    names = NAMES.get(name, [])
    for i, (kind, detail, cs) in enumerate(p11gen.c_params(name, args)):
        argname = names[i] if i < len(names) and names[i] else None
        if argname is None:
            argname = DEFAULT_NAME.get((kind, detail),
                                       DEFAULT_NAME.get((kind, None)))
        if argname is None and kind == "info_out":
            argname = "pInfo"
        if argname is None:
            raise SystemExit("%s: no name for %s" % (name, args[i]))
        out.append((kind, detail, argname, cs))
    for i in SECRET.get(name, ()):
        if out[i][0] not in ("bytes", "outbuf", "fillbuf"):
            raise SystemExit("%s: argument %d is not a buffer" % (name, i))
    return out


def proto(ps):
    return p11gen.c_proto(cs for _, _, _, cs in ps)


def c_str(s):
    return '"%s"' % s


def emit_inputs(o, name, ps):
    secret = SECRET.get(name, set())
    for i, (kind, detail, an, cs) in enumerate(ps):
        v = cs[0][1]
        if kind == "ulong" and detail == "flags":
            o.append("\tcf_spy_flags(&c.o, %s, %s, %s);"
                     % (c_str(an), v, FLAGSET.get(name, "CF_SPY_F_MECH")))
        elif kind == "ulong":
            o.append("\tcf_spy_ulong(&c.o, %s, %s, %s);"
                     % (c_str(an), v, ROLE[detail]))
        elif kind == "bool":
            o.append("\tcf_spy_bool(&c.o, %s, %s);" % (c_str(an), v))
        elif kind == "bytes":
            sec = "true" if detail == "secret" or i in secret else "false"
            o.append("\tcf_spy_bytes(&c.o, %s, %s, %s_len, %s);"
                     % (c_str(an), v, v, sec))
        elif kind == "label32":
            o.append("\tif (%s != NULL)" % v)
            o.append("\t\tcf_spy_fixed_string(&c.o, %s, %s, 32);"
                     % (c_str(an), v))
            o.append("\telse")
            o.append("\t\tcf_spy_pointer(&c.o, %s, NULL);" % c_str(an))
        elif kind == "outbuf":
            o.append("\tif (%s_len != NULL)" % v)
            o.append("\t\tcf_spy_printf(&c.o, \"  %s = %%s, *pul%sLen = "
                     "%%lu\\n\", %s != NULL ? \"buffer\" : \"NULL\", "
                     "(unsigned long)*%s_len);"
                     % (an, an.lstrip("p"), v, v))
            o.append("\telse")
            o.append("\t\tcf_spy_printf(&c.o, \"  %s: length pointer "
                     "NULL\\n\");" % an)
        elif kind == "fillbuf":
            o.append("\tcf_spy_ulong(&c.o, \"ulRandomLen\", %s_len, "
                     "CF_SPY_NUMBER);" % v)
        elif kind == "template":
            o.append("\tcf_spy_template(&c.o, %s, %s, %s_n);"
                     % (c_str(an), v, v))
        elif kind == "getattrs":
            o.append("\tcf_spy_getattrs_in(&c.o, %s, %s, %s_n);"
                     % (c_str(an), v, v))
        elif kind == "mech":
            o.append("\tcf_spy_mechanism(&c.o, %s, %s);" % (c_str(an), v))
        elif kind == "msgparam":
            o.append("\tcf_spy_msgparam(&c.o, %s, msg_known, msg_mech, "
                     "%s, %s_len, false);" % (c_str(an), v, v))
        elif kind == "ulongs_out":
            o.append("\tif (%s_n != NULL)" % v)
            o.append("\t\tcf_spy_printf(&c.o, \"  %s = %%s, *pulCount = "
                     "%%lu\\n\", %s != NULL ? \"buffer\" : \"NULL\", "
                     "(unsigned long)*%s_n);" % (an, v, v))
            o.append("\telse")
            o.append("\t\tcf_spy_pointer(&c.o, \"pulCount\", NULL);")
        elif kind == "handles_out":
            o.append("\tcf_spy_ulong(&c.o, \"ulMaxObjectCount\", %s_max, "
                     "CF_SPY_NUMBER);" % v)
        elif kind == "local":
            o.append("\tcf_spy_pointer(&c.o, %s, *(void **)&%s);"
                     % (c_str(an), v) if cs[0][0] == "CK_NOTIFY" else
                     "\tcf_spy_pointer(&c.o, %s, %s);" % (c_str(an), v))
        # ulong_out, info_out: outputs only.


def emit_outputs(o, name, ps):
    secret = SECRET.get(name, set())
    ok = []
    for i, (kind, detail, an, cs) in enumerate(ps):
        v = cs[0][1]
        if kind == "outbuf":
            sec = "true" if i in secret else "false"
            o.append("\tif (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)")
            o.append("\t\tcf_spy_outbuf(&c.o, %s, %s, %s_len, rv, %s);"
                     % (c_str(an), v, v, sec))
        elif kind == "fillbuf":
            sec = "true" if i in secret else "false"
            ok.append("cf_spy_bytes(&c.o, %s, %s, %s_len, %s);"
                      % (c_str(an), v, v, sec))
        elif kind == "ulong_out":
            ok.append("if (%s != NULL)" % v)
            ok.append("\tcf_spy_ulong(&c.o, \"*%s\", *%s, CF_SPY_NUMBER);"
                      % (an, v))
        elif kind == "ulongs_out":
            role = ROLE[detail]
            o.append("\tif (rv == CKR_OK && %s != NULL && %s_n != NULL)"
                     % (v, v))
            o.append("\t\tcf_spy_ulongs(&c.o, %s, %s, *%s_n, %s);"
                     % (c_str(an), v, v, role))
            o.append("\telse if ((rv == CKR_OK || rv == "
                     "CKR_BUFFER_TOO_SMALL) && %s_n != NULL)" % v)
            o.append("\t\tcf_spy_ulong(&c.o, \"*pulCount\", *%s_n, "
                     "CF_SPY_NUMBER);" % v)
        elif kind == "handles_out":
            ok.append("if (%s_n != NULL)" % v)
            ok.append("\tcf_spy_ulongs(&c.o, %s, %s, *%s_n, "
                      "CF_SPY_NUMBER);" % (c_str(an), v, v))
        elif kind == "info_out":
            ok.append("if (%s != NULL)" % v)
            ok.append("\t%s(&c.o, %s, %s);"
                      % (INFO_DECODERS[detail], c_str("*" + an), v))
        elif kind == "getattrs":
            o.append("\tif (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||")
            o.append("\t    rv == CKR_ATTRIBUTE_TYPE_INVALID ||")
            o.append("\t    rv == CKR_BUFFER_TOO_SMALL)")
            o.append("\t\tcf_spy_getattrs_out(&c.o, %s, %s, %s_n);"
                     % (c_str("*" + an), v, v))
        elif kind == "msgparam":
            ok.append("cf_spy_msgparam(&c.o, %s, msg_known, msg_mech, "
                      "%s, %s_len, true);" % (c_str("*" + an), v, v))
    if ok:
        o.append("\tif (rv == CKR_OK) {")
        for line in ok:
            o.append("\t\t" + line)
        o.append("\t}")


def emit_wrapper(o, fid, name, ps, cname, real):
    msg_op = MSG_OP.get(name)
    has_msgparam = any(k == "msgparam" for k, _, _, _ in ps)
    o.append("CK_RV %s(%s)" % (cname, proto(ps)))
    o.append("{")
    o.append("\tstruct cf_spy_call c;")
    if has_msgparam:
        o.append("\tCK_MECHANISM_TYPE msg_mech = 0;")
        o.append("\tbool msg_known = cf_spy_msg_get(a0, %s, &msg_mech);"
                 % msg_op)
    o.append("\tCK_RV rv;")
    o.append("")
    o.append("\tcf_spy_begin(&c, %d, \"%s\");" % (fid, name))
    emit_inputs(o, name, ps)
    args = ", ".join(n for _, _, _, cs in ps for _, n in cs)
    o.append("\tcf_spy_start(&c);")
    o.append("\tif (cf_spy_real == NULL)")
    o.append("\t\trv = CKR_CRYPTOKI_NOT_INITIALIZED;")
    if name in V3_ONLY:
        o.append("\telse if (cf_spy_real3 == NULL)")
        o.append("\t\trv = CKR_FUNCTION_NOT_SUPPORTED;")
    o.append("\telse")
    o.append("\t\trv = %s->%s(%s);" % (real, name, args))
    o.append("\tcf_spy_returned(&c, rv);")
    emit_outputs(o, name, ps)
    if msg_op and name.endswith("Init") and name.startswith("C_Message"):
        o.append("\tif (rv == CKR_OK && a1 != NULL)")
        o.append("\t\tcf_spy_msg_set(a0, %s, a1->mechanism);" % msg_op)
    elif msg_op and name.endswith("Final") and name.startswith("C_Message"):
        o.append("\tif (rv == CKR_OK)")
        o.append("\t\tcf_spy_msg_clear(a0, %s);" % msg_op)
    elif name == "C_CloseSession":
        o.append("\tif (rv == CKR_OK) {")
        for op in ("ENCRYPT", "DECRYPT", "SIGN", "VERIFY"):
            o.append("\t\tcf_spy_msg_clear(a0, CF_SPY_MSG_%s);" % op)
        o.append("\t}")
    o.append("\tcf_spy_end(&c);")
    o.append("\treturn rv;")
    o.append("}")
    o.append("")


def main():
    out_h, out_c = sys.argv[2], sys.argv[3]
    h = ["/* Generated by src/spy/gen_spy.py from src/pkcs11/functions.py;",
         " * do not edit. */",
         "#ifndef CF_SPY_WRAPPERS_H",
         "#define CF_SPY_WRAPPERS_H",
         "",
         "#include \"coffer/pkcs11.h\"",
         ""]
    c = ["/* Generated by src/spy/gen_spy.py from src/pkcs11/functions.py;",
         " * do not edit. */",
         "#include \"spy/spy.h\"",
         "#include \"spy/wrappers.h\"",
         "",
         "#include <stddef.h>",
         ""]
    if len(functions.FUNCTIONS) != 92:
        raise SystemExit("spy.h's CF_SPY_NFUNC is 92; functions.py has %d"
                         % len(functions.FUNCTIONS))
    for fid, name, args in functions.wire_functions():
        ps = params(name, args)
        real = "cf_spy_real3" if name in V3_ONLY else "cf_spy_real"
        h.append("CK_RV cf_spy_%s(%s);" % (name, proto(ps)))
        emit_wrapper(c, fid, name, ps, "cf_spy_" + name, real)
        if name == "C_GetInfo":
            # The version a module reports follows the list it was
            # reached through: the 3.0 list's C_GetInfo is the real
            # module's 3.0 one.
            h.append("CK_RV cf_spy_C_GetInfo_3_0(%s);" % proto(ps))
            emit_wrapper(c, fid, name, ps, "cf_spy_C_GetInfo_3_0",
                         "(cf_spy_real3 != NULL ? (CK_FUNCTION_LIST *)"
                         "cf_spy_real3 : cf_spy_real)")
    c.append("static const char *const names[] = {")
    c.append("\t[0] = \"?\",")
    for fid, name, _ in functions.FUNCTIONS:
        c.append("\t[%d] = \"%s\"," % (fid, name))
    c.append("};")
    c.append("")
    c.append("const char *cf_spy_fn_name(unsigned fn)")
    c.append("{")
    c.append("\treturn fn < sizeof(names) / sizeof(names[0]) && "
             "names[fn] != NULL ? names[fn] : \"?\";")
    c.append("}")
    c.append("")
    h += ["", "#endif", ""]
    with open(out_h, "w") as fh:
        fh.write("\n".join(h))
    with open(out_c, "w") as fc:
        fc.write("\n".join(c))


if __name__ == "__main__":
    main()
