#!/usr/bin/env python3
"""bench/remote.py - issue 4's measurement of the remote path, in one run.

Run it as bench/run-remote.sh BUILDDIR [options]. It starts everything it
measures itself, each in a scratch directory, and stops each by its PID:

  cofferd-unix   libcoffer-client.so -> cofferd (unix socket) -> libcoffer.so
  cofferd-tls    the same over TLS 1.3 on 127.0.0.1 (throwaway CA and certs)
  cofferd-spin   the same as cofferd-unix with the opt-in spin mode
                 (--spin-us N; COFFER_SPIN_USEC=N for the client and cofferd)
  p11kit         p11-kit-client.so -> p11-kit server -> SoftHSMv2
  coffer         libcoffer.so loaded directly (the compute cost)
  softhsm        SoftHSMv2 loaded directly (context for the p11kit column)

and measures, in this order: the round-trip floor (coffer-pingpong), every
column above with coffer-bench (one run, so one table), the floor again.
Then it prints coffer-bench's table and a summary in which every remote
figure is a ratio to the floor of the same run. Timings are reported,
never judged: the exit status says only whether everything ran.
"""

import argparse
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROWS = ["random", "sign-ecdsa-p256@1t", "sign-ecdsa-p256@2t",
        "sign-ecdsa-p256@8t", "aes-gcm-64k", "connect"]
SO_PIN, USER_PIN, LABEL = "12345678", "1234", "bench"
CLIENT_CN = "coffer-bench-client"
READY_TIMEOUT = 30.0

P11KIT_CLIENT_PATHS = [
    "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so",
    "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
    "/usr/lib64/pkcs11/p11-kit-client.so",
    "/usr/lib/pkcs11/p11-kit-client.so",
]


def log(msg):
    print("run-remote: " + msg, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def run(cmd, env=None, cwd=None):
    """Runs a set-up command; its output only shows when it fails."""
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise Failed("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                               p.stdout.strip()))
    return p.stdout


class Servers:
    """Every process started here, stopped by PID in reverse order."""

    def __init__(self):
        self.procs = []  # (name, Popen, log path)

    def start(self, name, cmd, env, log_path, stdout=None):
        logf = open(log_path, "w")
        p = subprocess.Popen(cmd, env=env, stdout=stdout or logf,
                             stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        self.procs.append((name, p, log_path))
        return p

    def died(self, p, log_path, name):
        tail = ""
        try:
            with open(log_path) as f:
                tail = "".join(f.readlines()[-15:])
        except OSError:
            pass
        return Failed("%s exited with %s before it was ready:\n%s"
                      % (name, p.returncode, tail))

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, p, _ in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log("%s (pid %d) ignored SIGTERM; killing it" % (name, p.pid))
                p.kill()
                p.wait()
        self.procs = []


def wait_until(ready, p, servers, name, log_path):
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        if p.poll() is not None:
            raise servers.died(p, log_path, name)
        if time.monotonic() > deadline:
            raise Failed("%s not ready after %gs (log: %s)"
                         % (name, READY_TIMEOUT, log_path))
        time.sleep(0.02)


def tcp_listening(port):
    """True when something listens on 127.0.0.1:port, read from
    /proc/net/tcp so that no probe connection disturbs the server."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certs(d):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client
    certificate, all P-256, with the openssl CLI."""
    os.makedirs(d)
    ossl = shutil.which("openssl")
    if ossl is None:
        raise Failed("the openssl CLI is needed for the TLS column")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run([ossl, "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=coffer-bench-ca",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], cwd=d)
    for who, cn, ext in (
            ("server", "127.0.0.1",
             "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", CLIENT_CN, "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, who + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n" + ext)
        run([ossl, "req", "-new", *key, "-keyout", who + ".key",
             "-out", who + ".csr", "-subj", "/CN=" + cn], cwd=d)
        run([ossl, "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem",
             "-CAkey", "ca.key", "-set_serial", "2" if who == "server" else "3",
             "-days", "2", "-extfile", who + ".ext", "-out", who + ".pem"],
            cwd=d)
    fp = run([ossl, "x509", "-noout", "-fingerprint", "-sha256", "-in",
              "client.pem"], cwd=d).strip().split("=", 1)[1]
    return {k: os.path.join(d, f) for k, f in (
        ("ca", "ca.pem"), ("server", "server.pem"),
        ("server_key", "server.key"), ("client", "client.pem"),
        ("client_key", "client.key"))}, fp


def coffer_token(d, libcoffer):
    """A libcoffer.so token directory with the bench's token ("bench",
    its SO and user PINs) made before cofferd exports it, and the env that
    points libcoffer.so at it."""
    os.makedirs(os.path.join(d, "tokens"))
    conf = os.path.join(d, "coffer.conf")
    with open(conf, "w") as f:
        f.write("token_dir = %s\n" % os.path.join(d, "tokens"))
    env = dict(os.environ, COFFER_CONF=conf)
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        # coffer-bench then initialises the free token through the
        # client (C_InitToken + C_InitPIN), if cofferd lets it.
        log("no pkcs11-tool: the bench will initialise the token remotely")
        return env
    run([tool, "--module", libcoffer, "--init-token", "--label", LABEL,
         "--so-pin", SO_PIN], env=env)
    run([tool, "--module", libcoffer, "--token-label", LABEL, "--login",
         "--login-type", "so", "--so-pin", SO_PIN, "--init-pin",
         "--new-pin", USER_PIN], env=env)
    return env


def start_cofferd(servers, b, d, name, listen, extra=(), env_extra=None,
                  prefix=()):
    env = coffer_token(d, b["libcoffer"])
    env.update(env_extra or {})
    cmd = [*prefix, b["cofferd"], "--module", b["libcoffer"], "--listen",
           listen, *extra]
    log_path = os.path.join(d, "cofferd.log")
    p = servers.start(name, cmd, env, log_path)
    if listen.startswith("unix:"):
        path = listen[5:]
        wait_until(lambda: os.path.exists(path), p, servers, name, log_path)
    else:
        port = int(listen.rsplit(":", 1)[1])
        wait_until(lambda: tcp_listening(port), p, servers, name, log_path)
    return p.pid


def start_p11kit(servers, softhsm, d):
    """SoftHSMv2 token made with softhsm2-util, exported by p11-kit server
    in the foreground; returns (P11_KIT_SERVER_ADDRESS, server pid)."""
    os.makedirs(os.path.join(d, "tokens"))
    conf = os.path.join(d, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                "log.level = ERROR\nslots.removable = false\n"
                % os.path.join(d, "tokens"))
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    run(["softhsm2-util", "--init-token", "--free", "--label", LABEL,
         "--so-pin", SO_PIN, "--pin", USER_PIN], env=env)
    log_path = os.path.join(d, "p11-kit-server.log")
    p = servers.start("p11-kit server",
                      ["p11-kit", "server", "-f", "-s", "-n",
                       os.path.join(d, "p11kit.sock"), "--provider", softhsm,
                       "pkcs11:token=" + LABEL],
                      env, log_path, stdout=subprocess.PIPE)
    # It prints, then serves:
    #   P11_KIT_SERVER_ADDRESS=unix:path=...; export P11_KIT_SERVER_ADDRESS;
    #   P11_KIT_SERVER_PID=N; export P11_KIT_SERVER_PID;
    # Read raw from the pipe: a buffered readline could hold the second
    # line while select() waits for more.
    found, text = {}, ""
    fd = p.stdout.fileno()
    deadline = time.monotonic() + READY_TIMEOUT
    while len(found) < 2:
        if p.poll() is not None:
            raise servers.died(p, log_path, "p11-kit server")
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failed("p11-kit server printed no address")
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        text += os.read(fd, 4096).decode(errors="replace")
        for line in text.splitlines():
            for var in ("P11_KIT_SERVER_ADDRESS", "P11_KIT_SERVER_PID"):
                if line.startswith(var + "=") and ";" in line:
                    found[var] = line[len(var) + 1:].split(";", 1)[0]
    pid = int(found["P11_KIT_SERVER_PID"])
    if pid != p.pid:
        log("p11-kit server reports pid %d, started as %d" % (pid, p.pid))
    return found["P11_KIT_SERVER_ADDRESS"], pid


def find_p11kit_client(given):
    if given:
        return given
    try:
        out = subprocess.run(["dpkg", "-L", "p11-kit-modules"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.endswith("/p11-kit-client.so"):
                return line
    except OSError:
        pass
    for p in P11KIT_CLIENT_PATHS:
        if os.path.exists(p):
            return p
    return None


def pingpong(b, out, seconds, spin_us=0, work_us=0, prefix=()):
    cmd = [*prefix, b["pingpong"], "--sizes",
           "64" if work_us or prefix else "64,65536",
           "--seconds", str(seconds), "--json", out]
    if spin_us:
        cmd += ["--spin-us", str(spin_us)]
    if work_us:
        cmd += ["--work-us", str(work_us)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stderr.write(p.stdout)
    if p.returncode != 0:
        raise Failed("coffer-pingpong failed")
    with open(out) as f:
        return {r["size"]: r for r in json.load(f)["results"]}


# ---- the summary -------------------------------------------------------

class Results:
    def __init__(self, bench_json):
        with open(bench_json) as f:
            self.j = json.load(f)
        self.cells = {(r["workload"], r["column"]): r
                      for r in self.j["results"]}

    def cell(self, row, col):
        r = self.cells.get((row, col))
        return r if r is not None and r["status"] == "ok" else None

    def why(self, row, col):
        r = self.cells.get((row, col))
        if r is None:
            return "not measured"
        return r.get("error", r["status"])

    def time(self, row, col):
        """Seconds per operation, from a time or a rate cell."""
        r = self.cell(row, col)
        if r is None or r["value"] <= 0:
            return None
        return r["value"] if r["unit"] == "s/op" else 1.0 / r["value"]

    def rate(self, row, col):
        r = self.cell(row, col)
        if r is None or r["value"] <= 0:
            return None
        return r["value"] if r["unit"] == "ops/s" else 1.0 / r["value"]

    def cpu(self, row, col):
        r = self.cell(row, col)
        if r is None:
            return None, None
        return r.get("cpu_client_per_op"), r.get("cpu_server_per_op")


def us(s):
    return "-" if s is None else "%.1fus" % (s * 1e6)


def ratio(x):
    return "-" if x is None else "%.2fx" % x


def div(a, b):
    return None if a is None or b is None or b == 0 else a / b


class Summary:
    def __init__(self):
        self.lines = []
        self.figures = {}

    def head(self, text):
        self.lines.append("")
        self.lines.append(text)

    def line(self, text):
        self.lines.append("  " + text)

    def target(self, key, value, op, limit, what):
        """A figure with its target; never an error when missed."""
        self.figures[key] = value
        if value is None:
            return "%s: -" % what
        met = value <= limit if op == "<=" else value >= limit
        return "%s: %.2fx (target %s %.2fx: %s)" % (
            what, value, op, limit, "met" if met else "NOT met")

    def cpu(self, res, row, col):
        c, s = res.cpu(row, col)
        txt = "cpu per op: client %s" % us(c)
        if s is not None:
            txt += ", server %s" % us(s)
        return txt


def summarise(res, floor, spin_floor, cols, spin_us, work_floor=None,
              paused=None, coloc=None):
    S = Summary()
    f64 = (floor[0][64]["median"] + floor[1][64]["median"]) / 2
    f64k = (floor[0][65536]["median"] + floor[1][65536]["median"]) / 2
    S.figures.update(floor_64=f64, floor_64k=f64k)

    S.head("floor: blocking round trip between two processes over a Unix "
           "socket (coffer-pingpong)")
    for size, name in ((64, "64 B  "), (65536, "64 KiB")):
        b, a = floor[0][size], floor[1][size]
        S.line("%s  %s before, %s after the run (p90 %s, %s); used: %s; "
               "cpu per round trip %s + %s"
               % (name, us(b["median"]), us(a["median"]), us(b["p90"]),
                  us(a["p90"]), us((b["median"] + a["median"]) / 2),
                  us(b["cpu_parent"]), us(b["cpu_child"])))
    drift = abs(floor[0][64]["median"] - floor[1][64]["median"]) / f64
    if drift > 0.25:
        S.line("WARNING: the 64 B floor moved by %.0f%% during the run: "
               "the machine was not quiet, ratios are unreliable"
               % (drift * 100))
    if spin_floor:
        s = spin_floor[64]
        S.line("64 B spinning up to %dus: %s (%s of the blocking floor); "
               "cpu per round trip %s + %s"
               % (spin_us, us(s["median"]), ratio(div(s["median"], f64)),
                  us(s["cpu_parent"]), us(s["cpu_child"])))

    def have(col):
        return col in cols

    U, T, P, D, H, SP = ("cofferd-unix", "cofferd-tls", "p11kit", "coffer",
                         "softhsm", "cofferd-spin")
    if not have(U):
        S.head("NOTE: no cofferd columns (the build has no src/server/"
               "cofferd or src/client/libcoffer-client.so)")
    if not have(P):
        S.head("NOTE: no p11kit/softhsm columns (SoftHSMv2, softhsm2-util, "
               "p11-kit or p11-kit-client.so missing)")

    S.head("1. per-call overhead: C_GenerateRandom(32), median per call")
    for col in (U, P, D):
        if not have(col):
            continue
        t = res.time("random", col)
        if t is None:
            S.line("%-13s %s" % (col, res.why("random", col)))
            continue
        txt = "%-13s %s = %s of the 64 B floor; %s" % (
            col, us(t), ratio(div(t, f64)), S.cpu(res, "random", col))
        if col == U:
            txt += "; " + S.target("random_vs_floor", div(t, f64), "<=",
                                   1.2, "cofferd")
        S.line(txt)
    S.figures["random_p11kit_vs_floor"] = div(res.time("random", P), f64)
    S.line("cofferd-unix is %s faster than p11kit per call"
           % ratio(div(res.time("random", P), res.time("random", U))))

    S.head("2. ECDSA P-256 sign (C_SignInit + C_Sign, CKM_ECDSA of a "
           "32-byte hash), 1 thread")
    row = "sign-ecdsa-p256@1t"
    td, tu = res.time(row, D), res.time(row, U)
    S.line("direct libcoffer.so  %s per signature; %s"
           % (us(td), S.cpu(res, row, D)))
    if tu is not None:
        # The bench signs with one key again and again: after the first
        # signature the client defers each C_SignInit and sends it in one
        # frame with its C_Sign (docs/protocol.md, "Deferred
        # initialisation"), so a signature is one round trip.
        model = f64 + td if td is not None else None
        S.line("cofferd-unix         %s per signature; %s"
               % (us(tu), S.cpu(res, row, U)))
        S.line("round trips per signature: 1 (C_SignInit deferred and "
               "sent with C_Sign; 2 for the first signature with a key); "
               "implied by the times: (remote - direct) / floor = %s"
               % ("-" if td is None else "%.2f" % ((tu - td) / f64)))
        S.line(S.target("ecdsa_vs_model", div(tu, model), "<=", 1.1,
                        "remote / (1 x floor + direct) = %s / %s"
                        % (us(tu), us(model))))
        if work_floor:
            # The floor is an instant echo; a signing server keeps the
            # waiting client's CPU idle for the signature's time, and on
            # a VM waking an idle vCPU costs more. The same ping-pong
            # with the echo computing for the direct sign time is what
            # any blocking remote call of that length costs here.
            w = work_floor[64]
            S.figures["work_floor_64"] = w["median"]
            S.figures["ecdsa_vs_work_floor"] = div(tu, w["median"])
            S.line("floor with the echo computing %dus first (a blocking "
                   "round trip around a signature's worth of work): %s = "
                   "%s of (floor + direct); cofferd-unix / it: %s; cpu per "
                   "round trip %s + %s"
                   % (work_floor["work_us"], us(w["median"]),
                      ratio(div(w["median"], model)),
                      ratio(div(tu, w["median"])), us(w["cpu_parent"]),
                      us(w["cpu_child"])))
        if paused is not None and paused[1] is not None and td:
            # The echo above computes by the clock, so a CPU that runs
            # slower after idling does not show there. A signature does:
            # the direct sign with the CPU idling between signatures as
            # long as a remote caller's server idles between calls.
            tp_ = paused[1]
            S.figures["ecdsa_direct_paused"] = tp_
            S.figures["ecdsa_vs_model_paused"] = div(tu, f64 + tp_)
            S.line("direct libcoffer.so sleeping %dus between signatures: "
                   "%s per signature = %s of the direct time; cofferd-unix "
                   "/ (1 x floor + it) = %s"
                   % (paused[0], us(tp_), ratio(div(tp_, td)),
                      ratio(div(tu, f64 + tp_))))
    else:
        S.line("cofferd-unix: %s" % res.why(row, U))
    tp, th = res.time(row, P), res.time(row, H)
    if tp is not None:
        S.line("p11kit               %s per signature (softhsm direct %s); "
               "p11kit / (2 x floor + softhsm) = %s"
               % (us(tp), us(th),
                  ratio(div(tp, 2 * f64 + th if th else None))))

    S.head("3. concurrency: ECDSA P-256, a session per thread, one client "
           "process")
    r8u, r2d = res.rate("sign-ecdsa-p256@8t", U), res.rate(
        "sign-ecdsa-p256@2t", D)
    r8p, r8h = res.rate("sign-ecdsa-p256@8t", P), res.rate(
        "sign-ecdsa-p256@8t", H)

    def rate(x):
        return "-" if x is None else "%.0f/s" % x
    S.line("cofferd-unix 8 threads %s; direct libcoffer.so 2 threads %s; "
           "p11kit 8 threads %s; softhsm direct 8 threads %s (context: a "
           "different token)" % (rate(r8u), rate(r2d), rate(r8p), rate(r8h)))
    S.line(S.target("ecdsa8_vs_direct2", div(r8u, r2d), ">=", 0.5,
                    "cofferd-unix@8t / direct@2t"))
    S.line(S.target("ecdsa8_vs_p11kit8", div(r8u, r8p), ">=", 3.0,
                    "cofferd-unix@8t / p11kit@8t"))
    S.line("p11kit@8t / softhsm direct@8t: %s; %s"
           % (ratio(div(r8p, r8h)),
              S.cpu(res, "sign-ecdsa-p256@8t", U)))

    S.head("4. AES-256-GCM encrypt of 64 KiB (C_EncryptInit + C_Encrypt)")
    row = "aes-gcm-64k"
    tu, td = res.time(row, U), res.time(row, D)
    mb = div(65536 / 1e6, tu)
    S.figures["gcm64k_mb_s"] = mb
    S.figures["gcm64k_vs_floor64k"] = div(tu, f64k)
    S.line("cofferd-unix %s per call = %s MB/s; direct %s MB/s"
           % (us(tu), "-" if mb is None else "%.0f" % mb,
              "-" if td is None else "%.0f" % (65536 / 1e6 / td)))
    S.line("time per call / 64 KiB floor: %s; / (64 B floor + 64 KiB "
           "floor + direct): %s; %s"
           % (ratio(div(tu, f64k)),
              ratio(div(tu, f64 + f64k + td if td else None)),
              S.cpu(res, row, U)))
    if have(P):
        tp = res.time(row, P)
        S.line("p11kit: %s" % (res.why(row, P) if tp is None else
                               "%.0f MB/s" % (65536 / 1e6 / tp)))

    S.head("5. TLS 1.3 on 127.0.0.1 (mutual certificates)")
    row = "sign-ecdsa-p256@1t"
    S.line(S.target("tls_vs_unix", div(res.rate(row, T), res.rate(row, U)),
                    ">=", 0.8, "ECDSA 1 thread, tls rate / unix rate"))
    S.line("connection set-up (C_Initialize + first C_GetSlotList, fresh "
           "process, median): unix %s, tls %s, direct libcoffer.so %s"
           % (us(res.time("connect", U)), us(res.time("connect", T)),
              us(res.time("connect", D))))
    S.line("  = %s and %s of the 64 B floor"
           % (ratio(div(res.time("connect", U), f64)),
              ratio(div(res.time("connect", T), f64))))
    tr, tg = res.time("random", T), res.time("aes-gcm-64k", T)
    S.line("tls random(32) %s (%s of the 64 B floor); aes-gcm-64k %s per "
           "call (%s of the 64 KiB floor); ECDSA %s"
           % (us(tr), ratio(div(tr, f64)), us(tg), ratio(div(tg, f64k)),
              S.cpu(res, "sign-ecdsa-p256@1t", T)))
    S.figures["connect_unix"] = res.time("connect", U)
    S.figures["connect_tls"] = res.time("connect", T)

    if have(SP):
        S.head("6. opt-in spin mode (COFFER_SPIN_USEC=%d), beside the "
               "blocking path" % spin_us)
        for row in ("random", "sign-ecdsa-p256@1t"):
            ts, tb = res.time(row, SP), res.time(row, U)
            S.line("%-19s spin %s (%s of floor), blocking %s (%s); "
                   "spin %s; blocking %s"
                   % (row, us(ts), ratio(div(ts, f64)), us(tb),
                      ratio(div(tb, f64)), S.cpu(res, row, SP),
                      S.cpu(res, row, U)))
        S.figures["spin_random_vs_floor"] = div(res.time("random", SP), f64)
        ts, td = res.time(row, SP), res.time(row, D)
        if ts is not None and td is not None:
            S.figures["spin_ecdsa_vs_model"] = div(ts, f64 + td)
            S.line("sign-ecdsa-p256@1t spinning / (1 x blocking floor + "
                   "direct) = %s / %s: %s"
                   % (us(ts), us(f64 + td), ratio(div(ts, f64 + td))))

    if coloc is not None:
        cr, cf = coloc["res"], coloc["floor"]["median"]
        td = res.time("sign-ecdsa-p256@1t", D)
        S.head("7. opt-in co-location (COFFER_CPU=auto: a lone call runs on "
               "the CPU it connected from, and cofferd serves the connection "
               "there), blocking")
        S.line("64 B ping-pong, both processes on CPU 0: %s (%s of the "
               "floor)"
               % (us(cf), ratio(div(cf, f64))))
        tr = cr.time("random", "colocated")
        S.line("random              %s = %s of the floor; %s of the "
               "one-CPU ping-pong; %s"
               % (us(tr), ratio(div(tr, f64)), ratio(div(tr, cf)),
                  S.cpu(cr, "random", "colocated")))
        te = cr.time("sign-ecdsa-p256@1t", "colocated")
        S.figures["colocated_random"] = tr
        S.figures["colocated_ecdsa"] = te
        if td is not None:
            S.figures["colocated_ecdsa_vs_model"] = div(te, f64 + td)
        S.line("sign-ecdsa-p256@1t  %s = %s of (1 x floor + direct); %s"
               % (us(te), ratio(div(te, f64 + td) if td else None),
                  S.cpu(cr, "sign-ecdsa-p256@1t", "colocated")))
    return S


# ---- main ----------------------------------------------------------------

def build_paths(build, args):
    b = {
        "bench": os.path.join(build, "bench", "coffer-bench"),
        "pingpong": os.path.join(build, "bench", "coffer-pingpong"),
        "libcoffer": os.path.join(build, "src", "token", "libcoffer.so"),
        "client": os.path.join(build, "src", "client",
                               "libcoffer-client.so"),
        "cofferd": os.path.join(build, "src", "server", "cofferd"),
    }
    for k in ("bench", "pingpong", "libcoffer"):
        if not os.path.exists(b[k]):
            raise Failed("%s is missing (build first)" % b[k])
    for k in ("client", "cofferd"):
        if not os.path.exists(b[k]):
            log("%s is missing: no cofferd columns" % b[k])
            b[k] = None
    b["softhsm"] = args.softhsm if os.path.exists(args.softhsm) else None
    b["p11kit_client"] = find_p11kit_client(args.p11kit_client)
    if b["softhsm"] is None or b["p11kit_client"] is None or \
            shutil.which("p11-kit") is None or \
            shutil.which("softhsm2-util") is None:
        log("SoftHSMv2, softhsm2-util, p11-kit or p11-kit-client.so "
            "missing: no p11kit/softhsm columns")
        b["p11kit_client"] = None
    return b


def parse_args():
    ap = argparse.ArgumentParser(
        prog="run-remote.sh",
        description="Measures issue 4's remote path against the round-trip "
        "floor of the same run.")
    ap.add_argument("build", help="a meson build directory")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 0.05 s loops, 2 cold runs")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="wall time of each loop (default 2)")
    ap.add_argument("--init-runs", type=int, default=5,
                    help="fresh processes per connect figure (default 5)")
    ap.add_argument("--spin-us", type=int, default=0,
                    help="also measure the opt-in spin mode with "
                    "COFFER_SPIN_USEC=N")
    ap.add_argument("--softhsm", default=os.environ.get(
        "SOFTHSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"))
    ap.add_argument("--p11kit-client", default=None,
                    help="path of p11-kit-client.so (default: found)")
    ap.add_argument("--json", default=None,
                    help="summary figures (default BUILD/bench/remote.json)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch directory (logs, certs)")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.init_runs = 0.05, 2
    return a


def measure(args, b, scratch, servers):
    bench = [b["bench"], "--workload", ",".join(ROWS), "--reference",
             "coffer", "--seconds", str(args.seconds), "--init-runs",
             str(args.init_runs), "--json",
             os.path.join(scratch, "bench.json"),
             "--module", "coffer=" + b["libcoffer"]]
    cols = ["coffer"]

    def remote(name, pid, env):
        cols.append(name)
        bench.extend(["--module", "%s=%s" % (name, b["client"]),
                      "--server-pid", "%s=%d" % (name, pid)])
        for k, v in env.items():
            bench.extend(["--module-env", "%s=%s=%s" % (name, k, v)])

    if b["cofferd"] and b["client"]:
        d = os.path.join(scratch, "cofferd-unix")
        sock = os.path.join(d, "cofferd.sock")
        os.makedirs(d)
        pid = start_cofferd(servers, b, d, "cofferd-unix", "unix:" + sock)
        remote("cofferd-unix", pid, {"COFFER_SERVER": "unix:" + sock})

        d = os.path.join(scratch, "cofferd-tls")
        os.makedirs(d)
        certs, fp = make_certs(os.path.join(d, "pki"))
        conf = os.path.join(d, "cofferd.conf")
        with open(conf, "w") as f:
            f.write("# only the bench's client certificate\n"
                    "allow_subject = CN=%s\nallow_fingerprint = %s\n"
                    % (CLIENT_CN, fp))
        port = free_port()
        pid = start_cofferd(
            servers, b, d, "cofferd-tls", "tls://127.0.0.1:%d" % port,
            ["--tls-cert", certs["server"], "--tls-key", certs["server_key"],
             "--tls-ca", certs["ca"], "--config", conf])
        remote("cofferd-tls", pid, {
            "COFFER_SERVER": "tls://127.0.0.1:%d" % port,
            "COFFER_CLIENT_CERT": certs["client"],
            "COFFER_CLIENT_KEY": certs["client_key"],
            "COFFER_CLIENT_CA": certs["ca"]})

        if args.spin_us:
            d = os.path.join(scratch, "cofferd-spin")
            sock = os.path.join(d, "cofferd.sock")
            os.makedirs(d)
            spin = {"COFFER_SPIN_USEC": str(args.spin_us)}
            pid = start_cofferd(servers, b, d, "cofferd-spin", "unix:" + sock,
                                env_extra=spin)
            remote("cofferd-spin", pid, dict(spin,
                                             COFFER_SERVER="unix:" + sock))

    if b["p11kit_client"]:
        d = os.path.join(scratch, "p11kit")
        os.makedirs(d)
        addr, pid = start_p11kit(servers, b["softhsm"], d)
        cols.append("p11kit")
        bench.extend(["--module", "p11kit=" + b["p11kit_client"],
                      "--server-pid", "p11kit=%d" % pid, "--module-env",
                      "p11kit=P11_KIT_SERVER_ADDRESS=" + addr])
        cols.append("softhsm")
        bench.extend(["--module", "softhsm=" + b["softhsm"]])

    log("coffer-bench: " + " ".join(bench))
    bench_rc = subprocess.run(bench, env=dict(os.environ,
                                              TMPDIR=scratch)).returncode
    return cols, bench_rc


def direct_paused(b, scratch, seconds, pause_us):
    """Seconds per direct ECDSA signature when the CPU idles pause_us
    between signatures (coffer-bench --pause-us), or None."""
    d = os.path.join(scratch, "direct-paused")
    os.makedirs(d)
    out = os.path.join(d, "bench.json")
    rc = subprocess.run([b["bench"], "--workload", "sign-ecdsa-p256@1t",
                         "--seconds", str(seconds), "--pause-us",
                         str(pause_us), "--json", out, "--module",
                         "coffer=" + b["libcoffer"]],
                        env=dict(os.environ, TMPDIR=d),
                        stdout=subprocess.DEVNULL).returncode
    if rc != 0 or not os.path.exists(out):
        log("coffer-bench --pause-us failed (%d)" % rc)
        return None
    return Results(out).time("sign-ecdsa-p256@1t", "coffer")


# Both processes on one CPU: a hand-off between two threads of one CPU
# needs no wake-up of an idle one, which is most of the floor on a VM. The
# floor measured that way is the reference of the client's cpu setting.
PIN = ["taskset", "-c", "0"]


def colocated(args, b, scratch, servers):
    """random and 1-thread ECDSA through cofferd with the client's cpu
    setting (COFFER_CPU=auto), and the 64 B ping-pong with both processes on
    CPU 0; None when taskset is missing or there is one CPU only."""
    if not b["cofferd"] or not b["client"] or shutil.which("taskset") is None \
            or (os.cpu_count() or 1) < 2:
        return None
    d = os.path.join(scratch, "colocated")
    os.makedirs(d)
    sock = os.path.join(d, "cofferd.sock")
    pid = start_cofferd(servers, b, d, "cofferd-colocated", "unix:" + sock)
    out = os.path.join(d, "bench.json")
    # The client's cpu setting (auto): its lone calls run on the CPU it
    # connected from, and it asks cofferd to serve its connection there
    # (docs/client.md, "Latency").
    rc = subprocess.run(
        [b["bench"], "--workload", "random,sign-ecdsa-p256@1t",
         "--seconds", str(args.seconds), "--json", out, "--module",
         "colocated=" + b["client"], "--server-pid",
         "colocated=%d" % pid, "--module-env",
         "colocated=COFFER_SERVER=unix:" + sock, "--module-env",
         "colocated=COFFER_CPU=auto"],
        env=dict(os.environ, TMPDIR=d), stdout=subprocess.DEVNULL).returncode
    servers.stop_all()
    if rc != 0 or not os.path.exists(out):
        log("the co-located run failed (%d)" % rc)
        return None
    floor = pingpong(b, os.path.join(d, "floor.json"), args.seconds,
                     prefix=PIN)
    return {"res": Results(out), "floor": floor[64]}


def interrupted(signum, frame):
    raise KeyboardInterrupt()


def main():
    args = parse_args()
    build = os.path.abspath(args.build)
    b = build_paths(build, args)
    out_json = args.json or os.path.join(build, "bench", "remote.json")
    scratch = tempfile.mkdtemp(prefix="coffer-remote-")
    servers = Servers()
    rc = 0
    # SIGTERM/SIGHUP end the run like ^C: through the finally below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    try:
        log("floor (before)")
        before = pingpong(b, os.path.join(scratch, "floor-before.json"),
                          args.seconds)
        spin_floor = None
        if args.spin_us:
            spin_floor = pingpong(b, os.path.join(scratch, "floor-spin.json"),
                                  args.seconds, args.spin_us)
        cols, bench_rc = measure(args, b, scratch, servers)
        servers.stop_all()
        log("floor (after)")
        after = pingpong(b, os.path.join(scratch, "floor-after.json"),
                         args.seconds)
        res = Results(os.path.join(scratch, "bench.json"))
        work_floor = None
        td = res.time("sign-ecdsa-p256@1t", "coffer")
        if td is not None:
            work_us = max(1, int(round(td * 1e6)))
            log("floor with %dus of work in the echo" % work_us)
            work_floor = pingpong(b, os.path.join(scratch, "floor-work.json"),
                                  args.seconds, work_us=work_us)
            work_floor["work_us"] = work_us
        paused = None
        if td is not None:
            pause_us = max(1, int(round((before[64]["median"] +
                                         after[64]["median"]) / 2 * 1e6)))
            log("direct signatures %dus apart" % pause_us)
            paused = (pause_us, direct_paused(b, scratch, args.seconds,
                                              pause_us))
        log("co-located on one CPU")
        coloc = colocated(args, b, scratch, servers)
        if bench_rc != 0:
            log("coffer-bench exited with %d: some calls failed (see the "
                "table)" % bench_rc)
            rc = 1
        S = summarise(res, (before, after), spin_floor, cols, args.spin_us,
                      work_floor, paused, coloc)
        print("\nremote path (issue 4): every figure against the floor of "
              "this run; loops of %gs" % args.seconds)
        print("\n".join(S.lines))
        with open(out_json, "w") as f:
            json.dump({"tool": "run-remote", "seconds": args.seconds,
                       "columns": cols, "figures": S.figures,
                       "bench": res.j,
                       "floor": {"before": before, "after": after,
                                 "spin": spin_floor,
                                 "work": work_floor},
                       "direct_paused": paused}, f, indent=1)
        log("figures written to " + out_json)
    except Failed as e:
        log(str(e))
        rc = 2
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    finally:
        servers.stop_all()
        if args.keep:
            log("scratch kept: " + scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
