"""Closed-loop throughput with wrk (Debian's package), installed when missing and we are root.

Each run gets a generated Lua script: PUTs need a fresh episode id per request, and ``done()``
prints wrk's own summary as one JSON line for us to parse.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass

from bench.server import OUT_DIR

THREADS = 1  # one wrk thread outruns two Python workers; the rest of the CPU is theirs
CONNECTIONS = 32

_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

_PUT = r"""
local patients = {%(patients)s}
local body = %(body)s
local hex = "0123456789abcdef"
local counter = 0

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(tonumber(args[1]) + 7919 * (thread_number or 0))
end

local function digit(low, high)
  local r = math.random(low, high)
  return hex:sub(r, r)
end

local function uuid4()
  local t = {}
  for i = 1, 32 do t[i] = digit(1, 16) end
  t[13] = "4"
  t[17] = digit(9, 12)
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" ..
         s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

function request()
  counter = counter + 1
  local p = patients[(counter %% #patients) + 1]
  return wrk.format("PUT", "/api/v1/patients/" .. p[1] .. "/episodes/" .. uuid4(),
    {["Authorization"] = "Bearer " .. p[2], ["Content-Type"] = "application/json"}, body)
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx_3xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    command: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def ensure_wrk() -> str | None:
    """The wrk binary, installing Debian's package when missing and allowed; else None."""
    found = shutil.which("wrk")
    allowed = os.environ.get("BENCH_INSTALL_WRK", "1") == "1"  # the harness's test says 0
    if found or not allowed or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("installing wrk from Debian's packages …")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)  # type: ignore[call-overload]
    subprocess.run(  # type: ignore[call-overload]
        ["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet
    )
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def put_script(patients: list[tuple[str, str]], body: str) -> str:
    listed = ", ".join(f"{{{_lua_string(pid)}, {_lua_string(tok)}}}" for pid, tok in patients)
    return _PUT % {"patients": listed, "body": _lua_string(body)} + _DONE


def get_script() -> str:
    return _DONE


def run(binary: str, url: str, script: str, *, seconds: int, name: str) -> WrkResult:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.lua"
    path.write_text(script)
    command = [
        binary,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(path),
        url,
        "--",
        str(secrets.randbelow(2**31)),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    shown = " ".join(command[:-2]).replace(binary, "wrk", 1)
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non_2xx_3xx=data["non_2xx_3xx"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        command=shown.replace(str(OUT_DIR) + "/", "bench/out/"),
    )
