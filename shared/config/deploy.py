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
    globex:
      job: globex-pipeline
      environments:
        production: {job: globex-prod, parameters: {TARGET: prod, BRANCH: "{branch}"}}
```
`clients` may also be a plain list of names. Templates may use `{client}`, `{branch}` and `{env}`.
"""

from __future__ import annotations

import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TEMPLATE_FIELDS = frozenset({"client", "branch", "env"})
DEFAULT_JOB = "deploy-{client}"
DEFAULT_PARAMETERS: dict[str, str] = {"BRANCH": "{branch}", "ENV": "{env}"}
COMMAND_ID_PARAMETER = "SLASHOPS_COMMAND_ID"


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

    model_config = ConfigDict(frozen=True, extra="forbid")

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


class DeployPlan(BaseModel):
    """The resolved Jenkins job and build parameters for one deploy."""

    model_config = ConfigDict(frozen=True)

    job: str
    parameters: dict[str, str]


class DeployConfig(BaseModel):
    """Which clients can be deployed, and the Jenkins job and parameters for each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job: str = DEFAULT_JOB
    parameters: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    clients: dict[str, ClientDeploy] | None = None
    command_id_parameter: str = COMMAND_ID_PARAMETER

    @model_validator(mode="before")
    @classmethod
    def _clients_as_mapping(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("clients"), list | tuple):
            data = {**data, "clients": {name: {} for name in data["clients"]}}
        return data

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

    def plan(self, *, client: str, branch: str, env: str) -> DeployPlan:
        """The job and parameters for this deploy; the caller checks `knows(client)` first."""
        client_config = (self.clients or {}).get(client) or ClientDeploy()
        target = client_config.environments.get(env) or DeployTarget()
        job = target.job or client_config.job or self.job
        parameters = target.parameters or client_config.parameters or self.parameters
        values = {"client": client, "branch": branch, "env": env}
        return DeployPlan(
            job=job.format(**values),
            parameters={name: value.format(**values) for name, value in parameters.items()},
        )
