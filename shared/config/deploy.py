"""The `deploy` section of the configuration: Jenkins jobs per client and environment.

With no `deploy` section (the seed's access-only file) the documented default applies: any client
name is accepted and deployed with job `deploy-{client}` and parameters `BRANCH={branch}`, `ENV={env}`.
Once `clients` is written, only the clients it lists can be deployed.

```yaml
deploy:
  job: deploy-{client}              # default job name template
  parameters: {BRANCH: "{branch}", ENV: "{env}"}
  clients:
    acme: {}                        # the defaults
    initech: {branch_characters: "+@"}  # branches may also use + and @
    globex:
      job: globex-pipeline
      environments:
        production: {job: globex-prod, parameters: {TARGET: prod, BRANCH: "{branch}"}}
```
`clients` may also be a plain list of names. `deploy.locks: {default: 2h, max: 24h}` sets how long a `lock` lasts
without `--for`, and the longest `--for` allowed (30m, 2h, 1d); `clients.<name>.concurrent: true` lets two deploys of
one client's environment run at once (by default a second one is refused while the first runs).
`deploy.freezes` lists scheduled freeze windows (`FreezeWindow`): deploys and rollbacks into the environment are
refused while one is open, or held for approval by its `override` approvers.
Templates may use `{client}`, `{branch}` and `{env}`.

Branches must follow git's ref rules and, by default, use only ASCII letters, digits and `/ . _ -` (no leading
`-`): a Jenkins job that puts `${BRANCH}` in a shell step is then never handed `$(id)`, `;` or a backtick.
`branch_characters` widens that per client; control, format and whitespace characters are never allowed.
A `clients:` key with no value is an error, not "any client" (`clients: []` allows none).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from shared.commands.characters import describe, is_unsafe
from shared.commands.parser import ExtraCharacters
from shared.commands.spec import ArgumentSpec, ArgumentValue, CommandSpec
from shared.commands.validators import GIT_FORBIDDEN, git_ref_problem
from shared.config.access import ApprovalPolicy
from shared.locks.models import DurationError, describe_duration, parse_duration
from shared.schedules import Cron, ScheduleError, Window, zone

if TYPE_CHECKING:
    from shared.config.model import SlashopsConfig

TEMPLATE_FIELDS = frozenset({"client", "branch", "env"})
DEFAULT_JOB = "deploy-{client}"
DEFAULT_PARAMETERS: dict[str, str] = {"BRANCH": "{branch}", "ENV": "{env}"}
COMMAND_ID_PARAMETER = "SLASHOPS_COMMAND_ID"
FREEZE_ENVIRONMENTS = ("staging", "production")
"""The environments a freeze can name: `deploy --env`'s choices (`shared.commands.catalog.DEPLOY_ENVIRONMENTS`, held
equal by a test; not imported: the catalog is the commands', this module the configuration's)."""
MAX_FREEZE_SECONDS = 31 * 86400
"""The longest scheduled window: longer ones are a typo (`640h`) more often than a plan."""


def template_problem(template: str) -> str | None:
    """Why `template` cannot be formatted with client/branch/env, or None."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        return f"{template!r} is not a valid template ({error})"
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        return f"{template!r} uses unknown field(s) {', '.join(sorted(unknown))} (known: client, branch, env)"
    return None


def _check_templates(values: dict[str, str] | None) -> None:
    for value in (values or {}).values():
        problem = template_problem(value)
        if problem:
            raise ValueError(problem)


class DeployTarget(BaseModel):
    """Overrides for one environment of a client; unset fields fall back to the client's, then the section's."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    job: str | None = None
    parameters: dict[str, str] | None = None

    @field_validator("job")
    @classmethod
    def _job_template(cls, value: str | None) -> str | None:
        problem = template_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_templates(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        _check_templates(value)
        return value


class ClientDeploy(DeployTarget):
    """One client's overrides, optionally per environment (`staging`, `production`)."""

    environments: dict[str, DeployTarget] = Field(default_factory=dict)
    branch_characters: str = ""
    """Characters this client's branches may use beyond ASCII letters, digits and `/ . _ -`."""
    concurrent: StrictBool = False
    """True: deploys of one environment of this client may overlap; False: a second one is refused while one runs."""

    @field_validator("branch_characters")
    @classmethod
    def _printable_characters(cls, value: str) -> str:
        problem = branch_characters_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def branch_characters_problem(characters: str) -> str | None:
    """Why `characters` cannot widen the branch alphabet: invisible, whitespace, or never valid in a git ref."""
    for character in characters:
        if is_unsafe(character) or character.isspace():
            return f"contains {describe(character)}: control, format and whitespace characters are never allowed"
        if character in GIT_FORBIDDEN:
            return f"contains {character!r}, which git never allows in a branch name"
    return None


class LocksConfig(BaseModel):
    """How long a `lock` lasts without `--for` (`default`) and at most (`max`), as durations: 30m, 2h, 1d."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    default: int = 2 * 3600
    max: int = 24 * 3600

    @field_validator("default", "max", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except DurationError as error:
                raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> LocksConfig:
        if not 0 < self.default <= self.max:
            raise ValueError("needs 0 < default <= max")
        return self


class FreezeWindow(BaseModel):
    """`{env: production, cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlin, reason: weekend,
    override: {users: [U0LEAD], groups: [S0SRE]}}`: a freeze that opens at each fire of `cron` (read in `timezone`,
    default UTC) and lasts `duration` on that zone's wall clock (`shared.schedules`). While it is open, a deploy or
    rollback into `env` is refused; with an `override` (approvers as in an access rule's `approval`, with its
    `expires`), it is held for their approval instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    env: str
    cron: str
    duration: int
    """Seconds (written as a duration in the file: 30m, 64h, 2d)."""
    timezone: str = "UTC"
    reason: str = Field(min_length=1, max_length=200)
    override: ApprovalPolicy | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields)
            for key in data:
                if isinstance(key, str) and key not in known:
                    raise ValueError(
                        f"unknown key {key!r}{did_you_mean(key, known)} (known: {', '.join(sorted(known))})"
                    )
        return data

    @field_validator("env")
    @classmethod
    def _environment(cls, value: str) -> str:
        if value not in FREEZE_ENVIRONMENTS:
            raise ValueError(
                f"{value!r} is not an environment{did_you_mean(value, FREEZE_ENVIRONMENTS)} "
                f"(environments: {', '.join(FREEZE_ENVIRONMENTS)})"
            )
        return value

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError("a duration such as 2h, 64h or 2d")
        try:
            seconds = parse_duration(value)
        except DurationError as error:
            raise ValueError(str(error)) from None
        if seconds > MAX_FREEZE_SECONDS:
            raise ValueError(f"at most {describe_duration(MAX_FREEZE_SECONDS)}")
        return seconds

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except ScheduleError as error:
            raise ValueError(f"{error}{did_you_mean(value, _zone_names())}") from None
        return value

    @model_validator(mode="after")
    def _schedule(self) -> FreezeWindow:
        try:
            Cron(self.cron, self.timezone)
        except ScheduleError as error:
            raise ValueError(f"cron: {error}") from None
        return self

    @cached_property
    def window(self) -> Window:
        """When it is open (validated above, so this cannot fail)."""
        return Window(Cron(self.cron, self.timezone), timedelta(seconds=self.duration))

    def describe(self) -> str:
        """`0 16 * * FRI` Europe/Berlin for 64h (plain text: the caller quotes it)."""
        return f"{self.cron} {self.timezone} for {describe_duration(self.duration)}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    import difflib  # only a mistyped configuration asks

    names = sorted(known)
    close = [known_name for known_name in names if name and known_name.startswith(name)]  # `prod`
    close = close or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _zone_names() -> set[str]:
    import zoneinfo  # only a mistyped time zone asks (reads the zone database's list)

    return zoneinfo.available_timezones()


class UnsafeBranchError(ValueError):
    """A branch outside its client's alphabet reached `plan()`: nothing may be built from it."""


class DeployPlan(BaseModel):
    """The resolved Jenkins job and build parameters for one deploy."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    job: str
    parameters: dict[str, str]


class DeployConfig(BaseModel):
    """Which clients can be deployed, and the Jenkins job and parameters for each."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    job: str = DEFAULT_JOB
    parameters: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    clients: dict[str, ClientDeploy] | None = None
    command_id_parameter: str = COMMAND_ID_PARAMETER
    locks: LocksConfig = LocksConfig()
    freezes: tuple[FreezeWindow, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _clients_as_mapping(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("clients"), list | tuple):
            data = {**data, "clients": {name: {} for name in data["clients"]}}
        return data

    @field_validator("clients")
    @classmethod
    def _clients_listed(cls, value: dict[str, ClientDeploy] | None) -> dict[str, ClientDeploy]:
        """Runs only for a `clients` key present in the file: with no value it would quietly mean "any client"."""
        if value is None:
            raise ValueError("null — remove the key to accept any client, or list the clients")
        return value

    @field_validator("job")
    @classmethod
    def _job_template(cls, value: str) -> str:
        problem = template_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_templates(cls, value: dict[str, str]) -> dict[str, str]:
        _check_templates(value)
        return value

    @property
    def restricted(self) -> bool:
        """False when no `clients` list is configured: every client name is accepted (the seed default)."""
        return self.clients is not None

    def client_names(self) -> tuple[str, ...]:
        return tuple(self.clients or ())

    def knows(self, client: str) -> bool:
        return not self.restricted or client in (self.clients or {})

    def branch_characters(self, client: str) -> str:
        """What `client`'s branches may use beyond the conservative alphabet (nothing unless configured)."""
        client_config = (self.clients or {}).get(client)
        return client_config.branch_characters if client_config else ""

    def concurrent(self, client: str) -> bool:
        """Whether `client` opted into overlapping deploys of one environment (`clients.<name>.concurrent`)."""
        client_config = (self.clients or {}).get(client)
        return client_config.concurrent if client_config else False

    def branch_problem(self, client: str, branch: str) -> str | None:
        return git_ref_problem(branch, self.branch_characters(client))

    def plan(self, *, client: str, branch: str, env: str) -> DeployPlan:
        """The job and parameters for this deploy; the caller checks `knows(client)` and `branch_problem` first.

        Checked again here, where the branch enters a job name and parameters: `UnsafeBranchError` if refused.
        """
        problem = self.branch_problem(client, branch)
        if problem:
            raise UnsafeBranchError(f"branch {branch!r} of client {client!r} {problem}")
        client_config = (self.clients or {}).get(client) or ClientDeploy()
        target = client_config.environments.get(env) or DeployTarget()
        job = target.job or client_config.job or self.job
        parameters = target.parameters or client_config.parameters or self.parameters
        values = {"client": client, "branch": branch, "env": env}
        return DeployPlan(
            job=job.format(**values),
            parameters={name: value.format(**values) for name, value in parameters.items()},
        )


def branch_characters_from(config: Callable[[], SlashopsConfig]) -> ExtraCharacters:
    """The parser's `extra_characters` for the ingress: a deploy's `--branch` widened by its client's setting.

    The configuration is read only when a branch is checked (the ingress has read it for access already).
    """

    def extra(spec: CommandSpec, argument: ArgumentSpec, arguments: Mapping[str, ArgumentValue]) -> str:
        if spec.name != "deploy" or argument.dest != "branch":
            return ""
        return config().deploy.branch_characters(str(arguments.get("client") or ""))

    return extra
