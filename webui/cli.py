"""The `hazardflow` command. Exit codes: 0 ok, 1 refused (with the reason), 2 usage."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from engine import DeployRefused, Engine, EngineError, FrozenClock, load_config, parse_iso


def _engine(ctx: click.Context) -> Engine:
    if ctx.obj is None:
        ctx.obj = Engine(load_config(ctx.find_root().params.get("config")))
    return ctx.obj


def _refuse(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group()
@click.option("--config", type=click.Path(dir_okay=False), help="config.yaml to use")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """HazardFlow: hazard reports from grid members to archived, with enforced deadlines."""


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the schema to the newest revision."""
    engine = _engine(ctx)
    engine.upgrade()
    click.echo(f"database up to date: {engine.database_label()}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="what the schema change is")
def db_revision(message: str) -> None:
    """For developers: a new migration of what engine/models.py changed (read it before
    committing it)."""
    click.echo(f"new migration: {Engine.new_migration(message)}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--comment", "-m", default=None, help="why: kept with the deployment and audited")
@click.pass_context
def deploy(ctx: click.Context, paths: tuple[str, ...], comment: str | None) -> None:
    """Validate and deploy process files (default: the processes folder of config.yaml).
    Files of an earlier deployment are deployed again as new versions (a roll back)."""
    engine = _engine(ctx)
    try:
        result = engine.deploy(list(paths) or None, comment=comment)
    except DeployRefused as refused:
        for problem in refused.problems:
            click.echo(f"refused: {problem}", err=True)
        sys.exit(1)
    if not result.created:
        click.echo(f"unchanged: identical to deployment {result.deployment_id}")
    elif result.same_files_as is not None:
        click.echo(f"deployment {result.deployment_id}: the files of {result.same_files_as}")
    for process_id, version in sorted(result.versions.items()):
        click.echo(f"{process_id}: version {version}")


@main.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--deployment", "deployment_id", type=int, default=None, help="default: newest")
@click.option("--version", "version", default=None, help="PROCESS:N, the deployment it came with")
@click.pass_context
def export(ctx: click.Context, dest: str, deployment_id: int | None, version: str | None) -> None:
    """Write a deployed version's files into DEST exactly as deployed (files of the same
    names are replaced), so that the folder and what is deployed tell one story."""
    engine = _engine(ctx)
    try:
        if version is not None:
            process_id, _, number = version.rpartition(":")
            if not process_id or not number.isdigit():
                raise click.BadParameter(
                    "give PROCESS:N, e.g. hazard_handling:3", param_hint="--version"
                )
            deployment_id = engine.deployment_of(process_id, int(number))
        exported, strays = engine.export(Path(dest), deployment_id)
    except EngineError as exc:
        _refuse(str(exc))
    click.echo(f"wrote the files of deployment {exported} to {dest}")
    for name in strays:
        click.echo(
            f"warning: {name} is not in deployment {exported}; deploying {dest} would add it",
            err=True,
        )


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check process files without deploying them."""
    engine = _engine(ctx)
    warnings: list = []
    try:
        compiled = engine.validate(files, warnings)
    except DeployRefused as refused:
        for problem in refused.problems:
            click.echo(f"refused: {problem}", err=True)
        for warning in warnings:  # what was found before the refusal (e.g. vendor attributes)
            click.echo(f"warning: {warning}", err=True)
        sys.exit(1)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for process_id, process in sorted(compiled.items()):
        click.echo(f"ok: {process_id} ({process.name})")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--deployment", type=int, help="compare with this deployment (default: newest)")
@click.pass_context
def diff(ctx: click.Context, paths: tuple[str, ...], deployment: int | None) -> None:
    """What process files change against a deployment: elements, rules, fields, lines."""
    engine = _engine(ctx)
    files = engine.draft_diff(list(paths) or [engine.config.processes_dir], deployment)
    for found in files:
        click.echo(f"{found['name']}: {found['status']}")
        for change in found["changes"]:
            label = f" ({change['name']})" if change["name"] else ""
            head = f"  {change['change']} {change['kind']} {change['id']}{label}".rstrip()
            click.echo(f"{head}: {'; '.join(change['details'])}" if change["details"] else head)
    if not files:
        click.echo("no changes")


@main.command()
@click.argument("process_id")
@click.option("--to", "to_version", type=int, help="the version to move to (default: newest)")
@click.option("--case", "cases", type=int, multiple=True, help="a case id (default: all running)")
@click.option("--apply", is_flag=True, help="move the cases (without it: only the preview)")
@click.option("--by", "username", help="the administrator recorded in each case's timeline")
@click.option("--comment", help="why, recorded in each case's timeline")
@click.pass_context
def migrate(
    ctx: click.Context,
    process_id: str,
    to_version: int | None,
    cases: tuple[int, ...],
    apply: bool,
    username: str | None,
    comment: str | None,
) -> None:
    """Move running cases to another version of their process, where that is safe; without
    --apply, what each case would change or why it may not move."""
    engine = _engine(ctx)
    if apply and not username:
        _refuse("--apply needs --by USERNAME: the timeline records who moved the cases")
    try:
        actor = engine.actor(username) if username else None
        if apply and actor is not None and not actor.is_admin:
            _refuse(f"{username} is not an administrator")
        records = engine.migrate_cases(
            process_id,
            actor,
            to_version=to_version,
            instance_ids=list(cases) or None,
            comment=comment,
            dry_run=not apply,
        )
    except EngineError as exc:
        _refuse(f"refused: {exc}")
    for record in records:
        versions = f"version {record['from_version']} -> {record['to_version']}"
        head = f"case {record['instance_id']}: {versions}"
        if not record["safe"]:
            click.echo(f"{head}: refused: {'; '.join(record['refusals'])}")
            continue
        click.echo(f"{head}: {'moved' if record['migrated'] else 'can move'}")
        for change in record["changes"]:
            click.echo(f"  {change}")
    if not records:
        click.echo("no running case is on another version")
    if any(not record["safe"] for record in records):
        sys.exit(1)


@main.group()
def demo() -> None:
    """The demo organisation."""


@demo.command("generate")
@click.option("--cases", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option(
    "--seed", type=int, default=2026, show_default=True, help="the same seed, the same cases"
)
@click.pass_context
def demo_generate(ctx: click.Context, cases: int, seed: int) -> None:
    """Add CASES demo cases over the past year (grids × categories × outcomes), for the
    statistics, the map and the lists; needs the demo organisation and processes/ deployed."""
    config = load_config(ctx.find_root().params.get("config"))
    engine = Engine(config, clock=FrozenClock())
    try:
        made = engine.generate_demo_cases(cases, seed)
    except (ValueError, LookupError) as exc:
        _refuse(str(exc))
    finally:
        engine.close()
    click.echo(
        f"generated {made['cases']} cases ({made['templates']} run through the process, "
        "the rest copies of them in other grids and weeks); "
        f"{made['timers']} timers that fell due on the way fired at their moments"
    )


@demo.command("load")
@click.pass_context
def demo_load(ctx: click.Context) -> None:
    """Load the demo grids, departments and users into an empty organisation."""
    engine = _engine(ctx)
    try:
        counts = engine.load_demo()
    except ValueError as exc:
        _refuse(str(exc))
    accounts = engine.demo_accounts()
    password = accounts["password"] if accounts else None
    click.echo(
        f"loaded {counts['grids']} grids, {counts['departments']} departments, "
        f"{counts['users']} users; demo password: {password}"
    )


@demo.command("shapes")
@click.pass_context
def demo_shapes(ctx: click.Context) -> None:
    """Give every grid without an outline a generated one, nested as the grid tree (for an
    organisation loaded before the map; real outlines are uploaded on the admin pages)."""
    added = _engine(ctx).add_demo_shapes()
    click.echo(f"generated the outlines of {added} grids")


@main.command()
@click.option("--host", default=None, help="default: config.yaml server.host")
@click.option("--port", default=None, type=int, help="default: config.yaml server.port")
@click.option("--workers", default=1, show_default=True, help="processes (PostgreSQL: more)")
@click.option("--threads", default=8, show_default=True, help="threads per process")
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, workers: int, threads: int
) -> None:
    """Serve the web UI and the JSON API with gunicorn."""
    from .server import run_server

    engine = _engine(ctx)
    host = host or engine.config.host
    port = port or engine.config.port
    if engine.is_sqlite and workers > 1:
        raise click.BadParameter(
            "SQLite serves from one process; use PostgreSQL to scale out", param_hint="--workers"
        )
    click.echo(f"HazardFlow on http://{host}:{port}/  (API: http://{host}:{port}/api/v1)")
    run_server(engine.config, host, port, workers, threads)


@main.command()
@click.option("--interval", type=float, default=None, help="seconds between sweeps")
@click.pass_context
def worker(ctx: click.Context, interval: float | None) -> None:
    """Fire due timers, now and every interval (run several against one PostgreSQL)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = _engine(ctx)
    if interval is not None:
        engine.config.sweep_interval_seconds = interval
    click.echo(f"timer worker: sweeping every {engine.config.sweep_interval_seconds:g} s")
    engine.run_timer_worker()


@main.group()
def users() -> None:
    """Users, roles and API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="repeatable")
@click.option("--department", default=None)
@click.option("--grid", "grids", multiple=True, help="repeatable")
@click.option("--password", default=None)
@click.option("--display-name", default=None)
@click.option("--email", default=None, help="for e-mailed notifications (config.yaml mail)")
@click.pass_context
def users_add(
    ctx: click.Context,
    name: str,
    roles: tuple[str, ...],
    department: str | None,
    grids: tuple[str, ...],
    password: str | None,
    display_name: str | None,
    email: str | None,
) -> None:
    """Add a user with roles (any role a process lane names)."""
    engine = _engine(ctx)
    try:
        engine.add_user(
            name,
            roles=list(roles),
            password=password,
            display_name=display_name,
            department=department,
            grids=list(grids),
            email=email,
        )
    except ValueError as exc:
        _refuse(str(exc))
    click.echo(f"added {name}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every user with roles, department and grids."""
    rows = _engine(ctx).users()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['name']:<24} {','.join(r['roles']):<16} {r['department'] or '-':<8} "
            f"{','.join(r['grids']) or '-'}  {r['display_name'] or ''}"
            + (f"  <{r['email']}>" if r["email"] else "")
        )


@users.command("deactivate")
@click.argument("name")
@click.pass_context
def users_deactivate(ctx: click.Context, name: str) -> None:
    """NAME can no longer sign in; their sessions and API tokens end now (history stays)."""
    try:
        _engine(ctx).deactivate_user(name)
    except EngineError as exc:
        _refuse(str(exc))
    click.echo(f"deactivated {name}: sessions and API tokens ended")


@users.command("token")
@click.argument("name")
@click.option("--days", type=int, default=None, help="lifetime (default: security.api_token_days)")
@click.option("--label", default=None, help="what the token is for, shown in its list")
@click.pass_context
def users_token(ctx: click.Context, name: str, days: int | None, label: str | None) -> None:
    """Print a new API token for NAME (only its hash is stored; it is not shown again)."""
    engine = _engine(ctx)
    try:
        token = engine.new_token(name, days, label)
    except (EngineError, ValueError) as exc:
        _refuse(str(exc))
    click.echo(token)
    newest = engine.tokens(name)[0]
    click.echo(f"token {newest['id']}, valid until {newest['expires_at']}", err=True)


@users.command("tokens")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_tokens(ctx: click.Context, name: str, as_json: bool) -> None:
    """NAME's API tokens that still work: id, made, valid until, label."""
    rows = _engine(ctx).tokens(name)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']:<6} {r['created_at']}  until {r['expires_at']}  {r['label'] or ''}")


@users.command("revoke-token")
@click.argument("name")
@click.argument("token_id", type=int)
@click.pass_context
def users_revoke_token(ctx: click.Context, name: str, token_id: int) -> None:
    """Revoke NAME's token TOKEN_ID (see `users tokens NAME`): refused from now on."""
    try:
        _engine(ctx).revoke_token(name, token_id, by="cli")
    except EngineError as exc:
        _refuse(str(exc))
    click.echo(f"revoked token {token_id} of {name}")


@main.group()
def grids() -> None:
    """The grid tree."""


@grids.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def grids_list(ctx: click.Context, as_json: bool) -> None:
    """Every grid with its parent and supervising leader."""
    rows = _engine(ctx).grids()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['code']:<20} {r['parent'] or '-':<16} {r['leader'] or '-':<22} {r['name']}")


@main.command("import-org")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--confirm", is_flag=True, help="keep what goes in (without it: a dry run)")
@click.pass_context
def import_org(ctx: click.Context, file: str, confirm: bool) -> None:
    """Departments, grids and users from an XLSX workbook (sheets 部门, 网格, 用户) or a CSV
    file: each row added, updated or rejected with its reason."""
    path = Path(file)
    try:
        report = _engine(ctx).import_organisation(path.name, path.read_bytes(), confirm=confirm)
    except ValueError as exc:
        _refuse(f"refused: {exc}")
    for row in report["rows"]:
        if row["action"] == "rejected":
            click.echo(f"rejected: {row['sheet']} row {row['row']} ({row['key']}): {row['reason']}")
    done = "imported" if report["applied"] else "dry run, nothing kept"
    click.echo(
        f"{done}: {report['added']} added, {report['updated']} updated,"
        f" {report['rejected']} rejected"
    )


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Recompute every hash chain; exit 1 if any event was changed or deleted."""
    result = _engine(ctx).verify_audit()
    for problem in result.problems:
        click.echo(f"tampered: {problem}", err=True)
    if not result.ok:
        sys.exit(1)
    click.echo(f"ok: {result.events} events in {result.chains} chains")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, file: str) -> None:
    """Write the database and the data folder (photos, the installation's secret) into one
    archive FILE, while the server runs (PostgreSQL: with pg_dump). Keep it safe: it holds
    everything, the secret too."""
    try:
        record = _engine(ctx).backup(Path(file))
    except EngineError as exc:
        _refuse(f"refused: {exc}")
    counts = record["counts"]
    click.echo(
        f"backed up to {file}: {counts['cases']} cases, {counts['audit_events']} audit events,"
        f" {counts['photos']} photos, {counts['users']} users ({record['database']},"
        f" revision {record['revision']}; {record['files']} files of the data folder)"
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="replace a database or data folder that is not empty")
@click.pass_context
def restore(ctx: click.Context, file: str, force: bool) -> None:
    """Restore a backup FILE into this installation's database and data folder (stop the
    server first), then check it: the counts of the backup, every photo's bytes and every
    audit chain. Exit 1 if anything differs."""
    try:
        record = _engine(ctx).restore(Path(file), force=force)
    except EngineError as exc:
        _refuse(f"refused: {exc}")
    counts = record["backup"]["counts"]
    click.echo(
        f"restored {file} (backed up {record['backup']['created_at']}): {counts['cases']}"
        f" cases, {counts['photos']} photos, {counts['users']} users"
    )
    for problem in record["problems"]:
        click.echo(f"problem: {problem}", err=True)
    if record["problems"]:
        sys.exit(1)
    click.echo(
        f"audit verify: ok: {record['audit_events']} events in {record['audit_chains']} chains"
    )


@main.group()
def timers() -> None:
    """Waiting timers."""


@timers.command("list")
@click.pass_context
def timers_list(ctx: click.Context) -> None:
    """Every waiting timer, soonest first."""
    for t in _engine(ctx).timers():
        click.echo(
            f"{t['fire_at']}  case {t['instance_id']:<6} {t['task_name']}  {t['title'] or ''}"
        )


@timers.command("run-due")
@click.option("--now", "now_text", default=None, help="ISO time to fire timers as of")
@click.pass_context
def timers_run_due(ctx: click.Context, now_text: str | None) -> None:
    """Fire every timer due at --now (default: the current time)."""
    now: datetime | None = None
    if now_text:
        try:
            now = parse_iso(now_text)
        except ValueError:
            raise click.BadParameter(f"not an ISO time: {now_text}", param_hint="--now") from None
    fired = _engine(ctx).fire_due_timers(now)
    click.echo(f"fired {fired} timer(s)")


@main.command()
@click.option(
    "--demo-cases",
    type=click.IntRange(0, 1_000_000),
    default=0,
    help="with a new demo organisation, also this many demo cases over the past year",
)
@click.pass_context
def setup(ctx: click.Context, demo_cases: int) -> None:
    """Migrate, deploy processes/ and load the demo organisation if empty (used by make run)."""
    engine = _engine(ctx)
    engine.upgrade()
    try:
        result = engine.deploy()
    except DeployRefused as refused:
        for problem in refused.problems:
            click.echo(f"refused: {problem}", err=True)
        sys.exit(1)
    for process_id, version in sorted(result.versions.items()):
        click.echo(f"deployed {process_id} version {version}")
    if not engine.has_users():
        counts = engine.load_demo()
        click.echo(f"loaded the demo organisation: {counts['users']} users")
        if demo_cases:
            click.echo(f"adding {demo_cases} demo cases over the past year (about a minute) …")
            ctx.invoke(demo_generate, cases=demo_cases, seed=2026)
    accounts = engine.demo_accounts()
    if accounts is None:
        return
    click.echo("demo logins:")
    for role, names in accounts["by_role"].items():
        shown = ", ".join(names[:3]) + (f" … ({len(names)})" if len(names) > 3 else "")
        click.echo(f"  {role:<12} {shown}")
    click.echo("  leader       leader_ap, leader_ap_d1, … (one per grid: leader_<grid code>)")
    click.echo(f"demo password: {accounts['password']}")


if __name__ == "__main__":
    main()
