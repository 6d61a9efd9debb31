"""The PKCS#11 3.0 functions, one row each: the one description of every
call that the wire protocol (src/wire, src/server, src/client) and the spy
(src/spy) are generated from. A function added here is carried, dispatched
and logged everywhere without further code.

Each row is (wire id, name, [argument, ...]). Wire ids are part of the
protocol (docs/protocol.md): never renumber, only append. Arguments are
written "KIND" or "KIND:DETAIL" and each stands for one or more C parameters
in the order of the specification's prototype:

  ulong:ROLE     CK_ULONG by value. ROLE names what it is, for the spy and
                 for the server's checks: session, slot, object, key, flags,
                 user, state, count, mech_type.
  bool           CK_BBOOL by value.
  bytes          (CK_BYTE_PTR or CK_UTF8CHAR_PTR, CK_ULONG) input; NULL with
                 length 0 is distinct from an empty buffer.
  bytes:secret   the same, never shown by the spy (PINs).
  label32        CK_UTF8CHAR_PTR to exactly 32 blank-padded bytes.
  outbuf         (CK_BYTE_PTR, CK_ULONG_PTR): the spec's output-length
                 convention (NULL buffer asks the length; a short buffer
                 gets CKR_BUFFER_TOO_SMALL and the length).
  fillbuf        (CK_BYTE_PTR, CK_ULONG): the caller's buffer, filled whole
                 (C_GenerateRandom).
  template       (CK_ATTRIBUTE_PTR, CK_ULONG) input template.
  getattrs       (CK_ATTRIBUTE_PTR, CK_ULONG) C_GetAttributeValue's in/out
                 template.
  mech           CK_MECHANISM_PTR; the parameter is encoded as the schema's
                 parameter table says (src/pkcs11/params.h).
  msgparam       (CK_VOID_PTR, CK_ULONG) the mechanism-specific in/out
                 parameter of a message-based call; its layout follows the
                 mechanism of the session's message operation.
  ulong_out:ROLE CK_ULONG_PTR single output (new handles, sizes).
  ulongs_out:ROLE (CK_ULONG_PTR, CK_ULONG_PTR) list with the output-length
                 convention (slot list, mechanism list).
  handles_out    (CK_OBJECT_HANDLE_PTR, CK_ULONG max, CK_ULONG_PTR count).
  info_out:TYPE  pointer to a fixed struct the callee fills: INFO,
                 SLOT_INFO, TOKEN_INFO, SESSION_INFO, MECHANISM_INFO.
  local          a pointer parameter that never crosses the wire
                 (C_OpenSession's application pointer and callback).

Functions flagged LOCAL are answered by the client itself and have no wire
encoding: library set-up, the function and interface lists, and calls whose
arguments are process-local.
"""

LOCAL = "local"

FUNCTIONS = [
    # General purpose (5.4)
    (1, "C_Initialize", LOCAL),
    (2, "C_Finalize", LOCAL),
    (3, "C_GetInfo", ["info_out:INFO"]),
    (4, "C_GetFunctionList", LOCAL),
    (5, "C_GetInterfaceList", LOCAL),
    (6, "C_GetInterface", LOCAL),
    # Slot and token management (5.5)
    (7, "C_GetSlotList", ["bool", "ulongs_out:slot"]),
    (8, "C_GetSlotInfo", ["ulong:slot", "info_out:SLOT_INFO"]),
    (9, "C_GetTokenInfo", ["ulong:slot", "info_out:TOKEN_INFO"]),
    (10, "C_WaitForSlotEvent", LOCAL),
    (11, "C_GetMechanismList", ["ulong:slot", "ulongs_out:mech_type"]),
    (12, "C_GetMechanismInfo",
     ["ulong:slot", "ulong:mech_type", "info_out:MECHANISM_INFO"]),
    (13, "C_InitToken", ["ulong:slot", "bytes:secret", "label32"]),
    (14, "C_InitPIN", ["ulong:session", "bytes:secret"]),
    (15, "C_SetPIN", ["ulong:session", "bytes:secret", "bytes:secret"]),
    # Session management (5.6)
    (16, "C_OpenSession",
     ["ulong:slot", "ulong:flags", "local", "local", "ulong_out:session"]),
    (17, "C_CloseSession", ["ulong:session"]),
    (18, "C_CloseAllSessions", ["ulong:slot"]),
    (19, "C_GetSessionInfo", ["ulong:session", "info_out:SESSION_INFO"]),
    (20, "C_SessionCancel", ["ulong:session", "ulong:flags"]),
    (21, "C_GetOperationState", ["ulong:session", "outbuf"]),
    (22, "C_SetOperationState",
     ["ulong:session", "bytes", "ulong:key", "ulong:key"]),
    (23, "C_Login", ["ulong:session", "ulong:user", "bytes:secret"]),
    (24, "C_LoginUser",
     ["ulong:session", "ulong:user", "bytes:secret", "bytes"]),
    (25, "C_Logout", ["ulong:session"]),
    # Object management (5.7)
    (26, "C_CreateObject",
     ["ulong:session", "template", "ulong_out:object"]),
    (27, "C_CopyObject",
     ["ulong:session", "ulong:object", "template", "ulong_out:object"]),
    (28, "C_DestroyObject", ["ulong:session", "ulong:object"]),
    (29, "C_GetObjectSize",
     ["ulong:session", "ulong:object", "ulong_out:count"]),
    (30, "C_GetAttributeValue",
     ["ulong:session", "ulong:object", "getattrs"]),
    (31, "C_SetAttributeValue",
     ["ulong:session", "ulong:object", "template"]),
    (32, "C_FindObjectsInit", ["ulong:session", "template"]),
    (33, "C_FindObjects", ["ulong:session", "handles_out"]),
    (34, "C_FindObjectsFinal", ["ulong:session"]),
    # Encryption (5.8)
    (35, "C_EncryptInit", ["ulong:session", "mech", "ulong:key"]),
    (36, "C_Encrypt", ["ulong:session", "bytes", "outbuf"]),
    (37, "C_EncryptUpdate", ["ulong:session", "bytes", "outbuf"]),
    (38, "C_EncryptFinal", ["ulong:session", "outbuf"]),
    # Decryption (5.9)
    (39, "C_DecryptInit", ["ulong:session", "mech", "ulong:key"]),
    (40, "C_Decrypt", ["ulong:session", "bytes", "outbuf"]),
    (41, "C_DecryptUpdate", ["ulong:session", "bytes", "outbuf"]),
    (42, "C_DecryptFinal", ["ulong:session", "outbuf"]),
    # Message-based encryption (5.10)
    (43, "C_MessageEncryptInit", ["ulong:session", "mech", "ulong:key"]),
    (44, "C_EncryptMessage",
     ["ulong:session", "msgparam", "bytes", "bytes", "outbuf"]),
    (45, "C_EncryptMessageBegin", ["ulong:session", "msgparam", "bytes"]),
    (46, "C_EncryptMessageNext",
     ["ulong:session", "msgparam", "bytes", "outbuf", "ulong:flags"]),
    (47, "C_MessageEncryptFinal", ["ulong:session"]),
    # Message-based decryption (5.11)
    (48, "C_MessageDecryptInit", ["ulong:session", "mech", "ulong:key"]),
    (49, "C_DecryptMessage",
     ["ulong:session", "msgparam", "bytes", "bytes", "outbuf"]),
    (50, "C_DecryptMessageBegin", ["ulong:session", "msgparam", "bytes"]),
    (51, "C_DecryptMessageNext",
     ["ulong:session", "msgparam", "bytes", "outbuf", "ulong:flags"]),
    (52, "C_MessageDecryptFinal", ["ulong:session"]),
    # Message digesting (5.12)
    (53, "C_DigestInit", ["ulong:session", "mech"]),
    (54, "C_Digest", ["ulong:session", "bytes", "outbuf"]),
    (55, "C_DigestUpdate", ["ulong:session", "bytes"]),
    (56, "C_DigestKey", ["ulong:session", "ulong:key"]),
    (57, "C_DigestFinal", ["ulong:session", "outbuf"]),
    # Signing and MACing (5.13)
    (58, "C_SignInit", ["ulong:session", "mech", "ulong:key"]),
    (59, "C_Sign", ["ulong:session", "bytes", "outbuf"]),
    (60, "C_SignUpdate", ["ulong:session", "bytes"]),
    (61, "C_SignFinal", ["ulong:session", "outbuf"]),
    (62, "C_SignRecoverInit", ["ulong:session", "mech", "ulong:key"]),
    (63, "C_SignRecover", ["ulong:session", "bytes", "outbuf"]),
    # Message-based signing (5.14)
    (64, "C_MessageSignInit", ["ulong:session", "mech", "ulong:key"]),
    (65, "C_SignMessage", ["ulong:session", "msgparam", "bytes", "outbuf"]),
    (66, "C_SignMessageBegin", ["ulong:session", "msgparam"]),
    (67, "C_SignMessageNext",
     ["ulong:session", "msgparam", "bytes", "outbuf"]),
    (68, "C_MessageSignFinal", ["ulong:session"]),
    # Verifying signatures and MACs (5.15)
    (69, "C_VerifyInit", ["ulong:session", "mech", "ulong:key"]),
    (70, "C_Verify", ["ulong:session", "bytes", "bytes"]),
    (71, "C_VerifyUpdate", ["ulong:session", "bytes"]),
    (72, "C_VerifyFinal", ["ulong:session", "bytes"]),
    (73, "C_VerifyRecoverInit", ["ulong:session", "mech", "ulong:key"]),
    (74, "C_VerifyRecover", ["ulong:session", "bytes", "outbuf"]),
    # Message-based verification (5.16)
    (75, "C_MessageVerifyInit", ["ulong:session", "mech", "ulong:key"]),
    (76, "C_VerifyMessage",
     ["ulong:session", "msgparam", "bytes", "bytes"]),
    (77, "C_VerifyMessageBegin", ["ulong:session", "msgparam"]),
    (78, "C_VerifyMessageNext",
     ["ulong:session", "msgparam", "bytes", "bytes"]),
    (79, "C_MessageVerifyFinal", ["ulong:session"]),
    # Dual-function cryptographic functions (5.17)
    (80, "C_DigestEncryptUpdate", ["ulong:session", "bytes", "outbuf"]),
    (81, "C_DecryptDigestUpdate", ["ulong:session", "bytes", "outbuf"]),
    (82, "C_SignEncryptUpdate", ["ulong:session", "bytes", "outbuf"]),
    (83, "C_DecryptVerifyUpdate", ["ulong:session", "bytes", "outbuf"]),
    # Key management (5.18)
    (84, "C_GenerateKey",
     ["ulong:session", "mech", "template", "ulong_out:key"]),
    (85, "C_GenerateKeyPair",
     ["ulong:session", "mech", "template", "template", "ulong_out:key",
      "ulong_out:key"]),
    (86, "C_WrapKey",
     ["ulong:session", "mech", "ulong:key", "ulong:key", "outbuf"]),
    (87, "C_UnwrapKey",
     ["ulong:session", "mech", "ulong:key", "bytes", "template",
      "ulong_out:key"]),
    (88, "C_DeriveKey",
     ["ulong:session", "mech", "ulong:key", "template", "ulong_out:key"]),
    # Random number generation (5.19)
    (89, "C_SeedRandom", ["ulong:session", "bytes"]),
    (90, "C_GenerateRandom", ["ulong:session", "fillbuf"]),
    # Parallel function management (5.20): legacy, answered locally
    (91, "C_GetFunctionStatus", LOCAL),
    (92, "C_CancelFunction", LOCAL),
]


def wire_functions():
    """The rows that cross the wire, in id order."""
    return [f for f in FUNCTIONS if f[2] != LOCAL]


def split(arg):
    """'ulong:session' -> ('ulong', 'session'); 'mech' -> ('mech', None)."""
    kind, _, detail = arg.partition(":")
    return kind, (detail or None)
