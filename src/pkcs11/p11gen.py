"""The C side of functions.py's argument kinds, shared by the generators
(src/client/gen_stubs.py, src/spy/gen_spy.py, src/server/gen_dispatch.py).

Each argument kind stands for one to three C parameters of the PKCS#11
prototype; argument i is named a<i>, and its companions a<i>_len, a<i>_n or
a<i>_max, so that generated code reads the same in every generator.
"""
import functions

# The C structure an info_out argument points to, by its detail.
INFO_CTYPES = {
    "INFO": "CK_INFO",
    "SLOT_INFO": "CK_SLOT_INFO",
    "TOKEN_INFO": "CK_TOKEN_INFO",
    "SESSION_INFO": "CK_SESSION_INFO",
    "MECHANISM_INFO": "CK_MECHANISM_INFO",
}


def c_params(name, args):
    """[(kind, detail, [(ctype, cname), ...]), ...] in prototype order."""
    out = []
    nlocal = 0
    for i, a in enumerate(args):
        kind, detail = functions.split(a)
        v = "a%d" % i
        if kind == "ulong":
            cs = [("CK_ULONG", v)]
        elif kind == "bool":
            cs = [("CK_BBOOL", v)]
        elif kind in ("bytes", "fillbuf"):
            cs = [("CK_BYTE_PTR", v), ("CK_ULONG", v + "_len")]
        elif kind == "label32":
            cs = [("CK_UTF8CHAR_PTR", v)]
        elif kind == "outbuf":
            cs = [("CK_BYTE_PTR", v), ("CK_ULONG_PTR", v + "_len")]
        elif kind in ("template", "getattrs"):
            cs = [("CK_ATTRIBUTE_PTR", v), ("CK_ULONG", v + "_n")]
        elif kind == "mech":
            cs = [("CK_MECHANISM_PTR", v)]
        elif kind == "msgparam":
            cs = [("CK_VOID_PTR", v), ("CK_ULONG", v + "_len")]
        elif kind == "ulong_out":
            cs = [("CK_ULONG_PTR", v)]
        elif kind == "ulongs_out":
            cs = [("CK_ULONG_PTR", v), ("CK_ULONG_PTR", v + "_n")]
        elif kind == "handles_out":
            cs = [("CK_ULONG_PTR", v), ("CK_ULONG", v + "_max"),
                  ("CK_ULONG_PTR", v + "_n")]
        elif kind == "info_out":
            cs = [(INFO_CTYPES[detail] + " *", v)]
        elif kind == "local":
            # C_OpenSession's pApplication, then Notify.
            cs = [("CK_VOID_PTR" if nlocal == 0 else "CK_NOTIFY", v)]
            nlocal += 1
        else:
            raise SystemExit("%s: unknown argument kind %s" % (name, a))
        out.append((kind, detail, cs))
    return out


def c_proto(cs_lists):
    """The parameter list of a C prototype from each argument's C params."""
    flat = [c for cs in cs_lists for c in cs]
    return ", ".join("%s %s" % (t, n) for t, n in flat) or "void"
