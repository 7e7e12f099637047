"""The ``auditor`` command: validate, run, tune, schema, init, report, sign, verify.

Every error auditor raises on purpose (:class:`~auditor.errors.AuditorError`) becomes its
one-line message on stderr and its exit code; anything else is a bug (exit 70) and shows a
traceback only with ``--debug``. Heavy libraries are imported inside the commands that need
them, so ``auditor validate`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.errors import AuditorError, DataError, ExitCode, Location, UsageError
from auditor.rerender import (  # noqa: F401 (the messages: tests name them as cli.MSG_*)
    MSG_SPEC_OTHER_RUN,
    MSG_SPEC_UNREADABLE,
    read_resolved_spec,
)
from auditor.results import (  # noqa: F401 (the messages: tests name them as cli.MSG_*)
    MSG_RESULTS_INVALID,
    MSG_RESULTS_MISSING,
    MSG_RESULTS_NOT_OBJECT,
    read_results,
)

EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C

EPILOG = """\
exit codes:
  0   READY: every blocking criterion passes (validate: the spec is valid;
      verify: everything matches; init, schema, report: done)
  1   NOT READY: a blocking criterion fails or cannot be decided
      (verify: a file or an attachment does not match the report)
  2   invalid input: spec, data or model file, an absent device, or bad usage
  3   CONDITIONAL: blocking criteria pass, an advisory one fails or a diagnostic warns
  4   verify: a signature is broken, or the report was changed after it was signed
  5   verify: the signatures are intact but a signer's certificate is not trusted
      (no --trust given, or it does not chain to one of them), or, with
      --require-signatures, an approver has not signed
  6   run --mlflow (or report.mlflow): the report is written, but logging it to
      MLflow failed (server down, refused); the verdict's code is then not given
  70  internal error: a bug in auditor (run with --debug for the traceback)
  130 interrupted (Ctrl-C); files are written whole or not at all
"""

MSG_INTERNAL = "auditor: internal error: {kind}: {message} (run with --debug for the traceback)"
MSG_INTERRUPTED = "auditor: interrupted"
MSG_VALID = "{file}: valid ({task}{rows}, {criteria} criteri{plural})"
MSG_EXISTS = "{file} already exists; use --force to overwrite it"
MSG_INIT_ENCODING = (
    "; if the file was saved in another encoding, say which: auditor init --encoding latin-1 "
    "(or cp1252 for files saved by Excel on Windows)"
)
MSG_WROTE_SPEC = (
    "wrote {file} ({task}, target '{target}'); check it, then run: auditor validate {file}"
)
MSG_PDF_MISSING = "report file not found"
MSG_JUNIT_DIR = "--junit must name a file, not a folder"
MSG_FINISHED = "finished in {seconds:.1f} s"
MSG_SIGNED = "{file}: signed by {signer}{approver} (signature field {field})"
MSG_SIGNED_AS = " as approver {approver}"
MSG_SIGNED_FORCED = ", who is not one of the report's approvers"
PASSPHRASE_ENV = "AUDITOR_SIGN_PASSPHRASE"
MSG_PASSPHRASE_ENV_UNSET = "environment variable {var} is not set (--passphrase-env)"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on stderr with exit code 2 (as argparse does)."""

    def error(self, message: str):  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.INVALID_INPUT), f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks of internal errors",
    )
    parser = _Parser(
        prog="auditor",
        description="One YAML spec in; a trained or vendor model, its audit and a readiness "
        "report out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )

    _add_validate(command)
    _add_run(command)
    _add_tune(command)
    command("schema", "print the spec's JSON Schema").set_defaults(handler=cmd_schema)
    _add_init(command)
    _add_report(command)
    _add_sign(command)
    _add_verify(command)
    return parser


def _add_validate(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor validate SPEC``."""
    p = command("validate", "check a spec and its data files without training anything")
    p.add_argument(
        "spec",
        metavar="SPEC",
        nargs="+",
        help="the YAML spec file (several: each is checked and every error reported, as a "
        "pre-commit hook does)",
    )
    p.add_argument(
        "--no-data",
        action="store_true",
        help="check the specs alone: schema and rules, not the data or model files they name "
        "(for a pre-commit hook in a repository that does not hold the data)",
    )
    p.set_defaults(handler=cmd_validate)


def _add_run(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor run SPEC [--out DIR] [--quiet]``."""
    p = command("run", "train (or load) the model, audit it and write the report")
    p.add_argument("spec", metavar="SPEC", help="the YAML spec file")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: reports/<name>/<UTC timestamp>/)"
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress; print only the verdict and the report's path",
    )
    p.add_argument(
        "--against",
        metavar="RESULTS",
        default=None,
        help="a previous run's results.json (or its folder) to compare with: every criterion's "
        "and headline metric's change, with an interval; overrides report.against",
    )
    _add_mlflow(p)
    _add_junit(p)
    p.set_defaults(handler=cmd_run)


def _add_junit(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--junit",
        metavar="FILE",
        default=None,
        help="also write the criteria as JUnit XML test cases (pass; failure with the "
        "measured value, interval and bound; skipped when waived or not judged), for CI",
    )


def _add_mlflow(p: argparse.ArgumentParser) -> None:
    """``--mlflow URI`` of ``auditor run`` and ``auditor tune``."""
    p.add_argument(
        "--mlflow",
        metavar="URI",
        default=None,
        help="log the audit to MLflow at this tracking URI (http://host:port, "
        "sqlite:///mlflow.db, ...) after the report is written: the resolved spec, every "
        "criterion and headline metric, the verdict, the report files, a tuning study's "
        "trials as nested runs; overrides report.mlflow.tracking_uri (needs the mlflow extra)",
    )


def _add_tune(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor tune SPEC [--workers N] [--storage URL] [--study NAME] [--out DIR] [--quiet]``."""
    p = command(
        "tune",
        "search the spec's tuning space with worker processes sharing one study, then train "
        "and audit the chosen configuration as run does; or, with --storage alone, join a "
        "shared study as a worker",
    )
    p.add_argument("spec", metavar="SPEC", help="the YAML spec file (with a tuning section)")
    p.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=None,
        help="worker processes on this machine, this one among them (default 1); this "
        "process then trains, audits and writes the run folder",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        default=None,
        help="where the trials live: a journal file (one machine; with --workers the default "
        "is tuning.journal in the run folder) or a postgresql:// URL (several machines); "
        "SQLite is refused (optuna#4002). Without --workers: join that study as a worker",
    )
    p.add_argument("--study", metavar="NAME", default=None, help="study name (default: the spec's)")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: reports/<name>/<UTC timestamp>/)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress")
    _add_mlflow(p)
    p.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    # a worker of a leader run from the Python API: the folder of its in-memory inputs
    p.add_argument("--inputs", default=None, help=argparse.SUPPRESS)
    _add_junit(p)
    p.set_defaults(handler=cmd_tune)


def _add_init(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor init --data FILE --target COLUMN [--out SPEC] [--name NAME] [--force]``."""
    p = command("init", "write a starter spec inferred from a data file")
    p.add_argument("--data", metavar="FILE", required=True, help="CSV, Parquet or JSON Lines file")
    p.add_argument("--target", metavar="COLUMN", required=True, help="the column to predict")
    p.add_argument(
        "--out",
        metavar="SPEC",
        default=None,
        help="spec file to write (default: <name>.yaml in the current folder)",
    )
    p.add_argument("--name", metavar="NAME", default=None, help="the spec's name")
    p.add_argument(
        "--model",
        metavar="FILE",
        default=None,
        help="a vendor's model or predictions file: write an audit-only spec that audits it "
        "on the data file as it is (no split, nothing trained)",
    )
    p.add_argument(
        "--reference",
        metavar="FILE",
        default=None,
        help="with --model: the development data the model was built on (for drift checks)",
    )
    p.add_argument(
        "--encoding",
        metavar="NAME",
        default=None,
        help="the text encoding of CSV and JSON Lines files (default utf-8; for example "
        "latin-1, or cp1252 for files saved by Excel on Windows); written into the spec",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing spec file")
    p.set_defaults(handler=cmd_init)


def _add_report(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor report RESULTS.json [--out DIR]``."""
    p = command("report", "render the report again from a results.json")
    p.add_argument("results", metavar="RESULTS.json", help="results.json of an earlier run")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default: the results file's folder)",
    )
    _add_junit(p)
    p.set_defaults(handler=cmd_report)


def _add_sign(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor sign REPORT.pdf (--key KEY --cert CERT [--chain FILE]... | --p12 FILE)``."""
    p = command(
        "sign",
        "add an approver's digital signature (PAdES) to a report PDF; approvers sign one "
        "after another, each signature an incremental update that keeps the earlier ones",
    )
    p.add_argument("pdf", metavar="REPORT.pdf", help="the report PDF (signed already or not)")
    p.add_argument("--key", metavar="KEY", help="the private key (PEM or DER)")
    p.add_argument("--cert", metavar="CERT", help="the signer's certificate (PEM or DER)")
    p.add_argument(
        "--chain",
        metavar="FILE",
        action="append",
        default=[],
        help="intermediate and root certificates to embed (repeatable)",
    )
    p.add_argument(
        "--p12",
        metavar="FILE",
        help="a PKCS#12 file with key and certificates (instead of --key and --cert)",
    )
    p.add_argument(
        "--passphrase-env",
        metavar="VAR",
        default=None,
        help=f"read the key's or PKCS#12 file's passphrase from this environment variable "
        f"(default: {PASSPHRASE_ENV} when set, else a prompt when the key is encrypted and "
        "the terminal is interactive); never give it on the command line",
    )
    p.add_argument(
        "--as",
        dest="as_name",
        metavar="NAME",
        default=None,
        help="which of the report's approvers you are (default: your certificate's common name)",
    )
    p.add_argument("--reason", default=None, help="default: 'Approved as <approver>'")
    p.add_argument("--location", default=None, help="where you sign (recorded in the signature)")
    p.add_argument(
        "--visible",
        action="store_true",
        help="draw the signature as a box on the sign-off page (default: an invisible field)",
    )
    p.add_argument(
        "--tsa",
        metavar="URL",
        default=None,
        help="an RFC 3161 timestamp server to timestamp the signature (PAdES B-T); "
        "default: none, nothing is fetched",
    )
    p.add_argument(
        "--out", metavar="FILE", default=None, help="write the signed PDF here (default: in place)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="sign although you are not one of the report's approvers, or signed it already",
    )
    p.set_defaults(handler=cmd_sign)


def _add_verify(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``auditor verify REPORT.pdf [--trust CERT]... [--data FILE]... [--model FILE]``."""
    p = command(
        "verify",
        "check a report's signatures and that it matches the data and model it names",
    )
    p.add_argument("pdf", metavar="REPORT.pdf", help="the report PDF")
    p.add_argument(
        "--trust",
        metavar="CERT",
        action="append",
        default=[],
        help="a trusted root certificate for the signers' certificates (PEM or DER; "
        "repeatable); without one, signatures are checked but not trusted (exit code 5)",
    )
    p.add_argument(
        "--require-signatures",
        action="store_true",
        help="exit code 5 unless every approver the report names has signed it (or, when "
        "it names none, unless it carries a signature)",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        action="append",
        default=[],
        help="a data file to compare with the report's fingerprints (repeatable)",
    )
    p.add_argument(
        "--model",
        metavar="FILE",
        default=None,
        help="the model file to compare with the report's fingerprint",
    )
    p.set_defaults(handler=cmd_verify)


def main(argv: list[str] | None = None) -> int:
    """Run the ``auditor`` command; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        if exc.code is None:
            return 0
        return int(exc.code) if isinstance(exc.code, int) else int(ExitCode.INVALID_INPUT)
    debug = debug or getattr(args, "debug", False)
    try:
        return int(args.handler(args))
    except AuditorError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        print(str(exc), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(MSG_INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # pragma: no cover - `auditor schema | head`
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            import traceback

            traceback.print_exc()
        message = " ".join(str(exc).split()) or "(no message)"
        print(MSG_INTERNAL.format(kind=type(exc).__name__, message=message), file=sys.stderr)
        return int(ExitCode.INTERNAL)


# --------------------------------------------------------------------------- commands
def cmd_validate(args: argparse.Namespace) -> int:
    """Check each spec; with several, report every file's errors and exit with the first
    failing file's code (one file: its error propagates as any command's does)."""
    if len(args.spec) == 1:
        return validate_one(args.spec[0], check_data=not args.no_data)
    failed = 0
    for spec in args.spec:
        try:
            validate_one(spec, check_data=not args.no_data)
        except AuditorError as exc:
            print(str(exc), file=sys.stderr)
            failed = failed or int(exc.exit_code)
    return failed


def validate_one(spec_file: str, *, check_data: bool) -> int:
    from auditor.spec import check_spec

    checked = check_spec(spec_file, check_data=check_data)
    spec = checked.spec
    rows = "".join(
        f", {n:,} rows" if key == "train" else f", {key} {n:,} rows"
        for key, n in checked.rows.items()
    )
    criteria = len(spec.acceptance)
    print(
        MSG_VALID.format(
            file=spec_file,
            task=spec.task,
            rows=rows,
            criteria=criteria,
            plural="on" if criteria == 1 else "a",
        )
    )
    return int(ExitCode.READY)


def cmd_run(args: argparse.Namespace, workers=None) -> int:
    from auditor import pipeline

    start = time.perf_counter()
    if args.out is not None:
        check_out_dir(Path(args.out))  # before the run, not after minutes of training
    junit = getattr(args, "junit", None)  # run and tune have --junit; a hand-made Namespace may not
    if junit is not None:
        check_junit_file(Path(junit))
    shared = {} if workers is None else {"workers": workers}  # auditor tune's workers
    if args.mlflow is not None:
        shared["mlflow"] = args.mlflow
    against = getattr(args, "against", None)  # auditor tune has no --against
    outcome = pipeline.run(args.spec, out=args.out, quiet=args.quiet, against=against, **shared)
    if outcome.note is not None:  # a data-parallel process other than rank 0 wrote nothing
        print(outcome.note)
        return int(outcome.exit_code)
    files = dict(outcome.files)
    if junit is not None:
        from auditor.junit import write_junit

        files["junit"] = write_junit(outcome.results, Path(junit))
    wall = time.perf_counter() - start
    print(
        run_summary(
            outcome.results,
            files,
            wall=wall,
            quiet=args.quiet,
            out_dir=outcome.out_dir,
            timings=outcome.timings,
        )
    )
    tracking = outcome.tracking  # --mlflow or report.mlflow, checked before the run
    if tracking is not None:  # after the outputs, from results.json; a failure keeps them
        from auditor.mlflow_log import MSG_LOGGED, log_audit

        run_id = log_audit(tracking, outcome.out_dir)
        if not args.quiet:
            print(
                MSG_LOGGED.format(run_id=run_id, experiment=tracking.experiment, uri=tracking.uri)
            )
    return int(outcome.exit_code)


def cmd_tune(args: argparse.Namespace) -> int:
    """The leader (``--workers``, or nothing: trains and audits as run does) or a worker
    (``--storage`` without ``--workers``: trials only, then a summary line)."""
    from auditor.tuning.workers import MSG_JOIN_OUT, MSG_NO_TUNING, Workers, join_study

    count = 1 if args.workers is None else args.workers
    workers = Workers(count, args.storage, args.study, args.worker_index, args.inputs)
    if args.workers is None and args.storage is not None:  # a worker, here or elsewhere
        if args.out is not None:
            raise UsageError(MSG_JOIN_OUT)
        print(join_study(args.spec, workers, quiet=args.quiet))
        return int(ExitCode.READY)
    from auditor.spec import load_spec

    if load_spec(args.spec).tuning is None:
        raise UsageError(MSG_NO_TUNING, Location(file=str(args.spec)))
    return cmd_run(args, workers)


def cmd_schema(args: argparse.Namespace) -> int:
    from auditor.spec import SCHEMA_PATH

    sys.stdout.write(SCHEMA_PATH.read_text(encoding="utf-8"))
    return int(ExitCode.READY)


def cmd_init(args: argparse.Namespace) -> int:
    from auditor.atomic import write_text
    from auditor.data.sources import (
        DEFAULT_ENCODING,
        ENCODING_FIELD,
        MSG_UNKNOWN_ENCODING,
        encoding_known,
        read_table,
    )
    from auditor.spec import schema_ref_for
    from auditor.spec.init import infer_task, spec_name, starter_spec

    data = Path(args.data)
    name = spec_name(args.name or data.stem)
    out = Path(args.out) if args.out else Path(f"{name}.yaml")
    if out.exists() and not args.force:
        raise UsageError(MSG_EXISTS.format(file=out), Location(file=str(out)))
    encoding = args.encoding or DEFAULT_ENCODING
    if not encoding_known(encoding):
        raise UsageError(MSG_UNKNOWN_ENCODING.format(encoding=encoding), Location())
    try:
        frame = read_table(data, encoding=encoding)
    except DataError as exc:  # init has no spec yet: the command line is where it is said
        if exc.location.path != ENCODING_FIELD:
            raise
        raise DataError(
            exc.message.split("; if the file")[0] + MSG_INIT_ENCODING, Location(file=str(data))
        ) from None

    def relative(path: str) -> str:
        return Path(os.path.relpath(Path(path).resolve(), out.resolve().parent)).as_posix()

    common = {"target": args.target, "data_path": relative(args.data), "name": name}
    common.update(schema_ref=schema_ref_for(out), source_label=str(data), encoding=encoding)
    if args.model:
        from auditor.spec.init import model_format, starter_audit_spec

        header = None
        if model_format(args.model) == "predictions":
            header = [str(c) for c in read_table(Path(args.model), encoding=encoding).columns]
        text = starter_audit_spec(
            frame,
            model_path=relative(args.model),
            predictions_header=header,
            reference_path=relative(args.reference) if args.reference else None,
            **common,
        )
    else:
        text = starter_spec(frame, **common)
    write_text(out, text)
    task, _ = infer_task(frame[args.target])
    print(MSG_WROTE_SPEC.format(file=out, task=task, target=args.target))
    return int(ExitCode.READY)


def cmd_report(args: argparse.Namespace) -> int:
    from auditor.rerender import render_again

    if args.junit is not None:
        check_junit_file(Path(args.junit))
    results = read_results(Path(args.results))
    files = render_again(Path(args.results), args.out, read=results)
    if args.junit is not None:
        from auditor.junit import write_junit

        files["junit"] = write_junit(results, Path(args.junit))
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return int(ExitCode.READY)


def cmd_verify(args: argparse.Namespace) -> int:
    pdf = Path(args.pdf)
    if not pdf.is_file():
        raise DataError(MSG_PDF_MISSING, Location(file=str(pdf)))
    from auditor.report.verify import verify_pdf

    signatures: dict[str, Any] = {}  # only when asked for: the call stays as it was
    if args.trust:
        signatures["trust"] = [Path(t) for t in args.trust]
    if args.require_signatures:
        signatures["require_signatures"] = True
    outcome = verify_pdf(
        pdf,
        data=[Path(d) for d in args.data],
        model=Path(args.model) if args.model else None,
        **signatures,
    )
    for line in outcome.lines:
        print(line)
    return int(outcome.exit_code)


def cmd_sign(args: argparse.Namespace) -> int:
    pdf = Path(args.pdf)
    if not pdf.is_file():
        raise DataError(MSG_PDF_MISSING, Location(file=str(pdf)))
    if args.p12 and (args.key or args.cert):
        raise UsageError("give either --p12 or --key and --cert, not both")
    if not args.p12 and not (args.key and args.cert):
        raise UsageError("give --key and --cert, or --p12")
    from auditor.report.sign import sign_report

    key_file = Path(args.p12 or args.key)
    signed = sign_report(
        pdf,
        key=Path(args.key) if args.key else None,
        cert=Path(args.cert) if args.cert else None,
        chain=[Path(c) for c in args.chain],
        p12=Path(args.p12) if args.p12 else None,
        passphrase=sign_passphrase(args.passphrase_env, key_file, bool(args.p12)),
        name=args.as_name,
        reason=args.reason,
        location=args.location,
        out=Path(args.out) if args.out else None,
        visible=args.visible,
        force=args.force,
        tsa=args.tsa,
    )
    if signed.approver:
        who = MSG_SIGNED_AS.format(approver=signed.approver)
    else:
        who = MSG_SIGNED_FORCED if signed.forced else ""
    print(
        MSG_SIGNED.format(file=signed.path, signer=signed.signer, approver=who, field=signed.field)
    )
    return int(ExitCode.READY)


def sign_passphrase(env: str | None, key_file: Path, p12: bool) -> bytes | None:
    """The passphrase for ``auditor sign``: from ``--passphrase-env``'s variable, else
    from AUDITOR_SIGN_PASSPHRASE, else a prompt when the key needs one and stdin is a
    terminal; never from the command line."""
    if env is not None:
        if env not in os.environ:
            raise UsageError(MSG_PASSPHRASE_ENV_UNSET.format(var=env))
        return os.environ[env].encode("utf-8")
    if PASSPHRASE_ENV in os.environ:
        return os.environ[PASSPHRASE_ENV].encode("utf-8")
    from auditor.report.sign import needs_passphrase

    if needs_passphrase(key_file, p12=p12) and sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"passphrase for {key_file}: ").encode("utf-8")
    return None


# --------------------------------------------------------------------------- helpers
def check_junit_file(path: Path) -> None:
    """Refuse a --junit file that is a folder or whose folder cannot be written (exit 2)."""
    from auditor.outputs import check_writable_dir

    if path.is_dir():
        raise UsageError(MSG_JUNIT_DIR, Location(file=str(path)))
    check_writable_dir(path.parent, label="--junit ")


def check_out_dir(out: Path) -> None:
    """Refuse an output folder that cannot be created or written (a UsageError, exit 2)."""
    from auditor.outputs import check_writable_dir

    check_writable_dir(out, label="--out ")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def run_summary(
    results: dict[str, Any],
    files: dict[str, Any],
    *,
    wall: float,
    quiet: bool,
    out_dir: Any = None,
    timings: dict[str, float] | None = None,
) -> str:
    """The text ``auditor run`` prints: verdict, criteria, files, timings, wall time."""
    verdict = results.get("verdict") or {}
    status = verdict.get("status", "?")
    reason = verdict.get("reason", "")
    head = f"{status}: {reason}" if reason else str(status)
    report = files.get("pdf") or files.get("report")
    if quiet:
        lines = [head]
        if report:
            lines.append(f"report: {report}")
        return "\n".join(lines)
    lines = [head, ""]
    criteria = results.get("criteria") or []
    if criteria:
        lines.append("criteria:")
        for c in criteria:
            mark = c.get("status", "?")
            if c.get("waived"):
                mark += " (waived)"
            shown = "FAIL" if mark == "fail" else mark
            value = _fmt(c.get("value"))
            ci = c.get("ci")
            if ci and all(v is not None for v in ci):
                value += f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"
            severity = "" if c.get("severity", "blocking") == "blocking" else " (advisory)"
            if c.get("status") in ("inconclusive", "error") and c.get("reason"):
                # "-" alone says nothing: say why it could not be decided
                value = c["reason"] if c.get("value") is None else f"{value}; {c['reason']}"
            lines.append(f"  {shown:<13} {c.get('description', '')}{severity}: {value}")
        lines.append("")
    if files:
        lines.append(f"outputs{f' in {out_dir}' if out_dir else ''}:")
        for kind, path in files.items():
            lines.append(f"  {kind:<13} {path}")
    timings = timings or (results.get("run") or {}).get("timings") or {}
    if timings:
        lines.append("stages: " + ", ".join(f"{k} {float(v):.1f} s" for k, v in timings.items()))
    lines.append(MSG_FINISHED.format(seconds=wall))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
