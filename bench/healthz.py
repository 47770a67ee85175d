"""The floor every other benchmark is a ratio to: `GET /healthz` on one uvicorn worker."""

from __future__ import annotations

from _common import server, write_section, wrk


def main() -> None:
    """Measure the health-check rate and write it to docs/benchmarks.md."""
    with server() as served:
        wrk(f"{served.url}/healthz", seconds=2)  # warm-up
        result = wrk(f"{served.url}/healthz", seconds=10)
    body = (
        "| what | req/s | p50 | p99 |\n|---|---|---|---|\n"
        f"| `GET /healthz` (wrk -c50, 10 s) | {result.requests_per_second:,.0f} "
        f"| {result.p50_ms:.2f} ms | {result.p99_ms:.2f} ms |\n"
    )
    print(body)
    write_section("healthz", "Health check (the floor)", body)


if __name__ == "__main__":
    main()
