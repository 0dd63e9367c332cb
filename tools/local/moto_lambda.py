"""moto's CloudFormation, taught the Lambda version and alias the ingress stack declares (infra/ingress.yaml
SnapStart: API Gateway invokes the alias `live`, moved to the version each release publishes).

moto 5.2 has no CloudFormation model for `AWS::Lambda::Alias` (it skips the resource, and then `!Ref FunctionAlias`
is empty, which fails the `AWS::Lambda::Permission` on it with a 500), and its `AWS::Lambda::Version` has no
`Version` attribute and no `Ref`. These two models, over moto's own Lambda backend (`publish_version`,
`create_alias`), replace them; `tools/local/moto_server.py` imports this module before it serves. Nothing is
invoked there (no SnapStart snapshot either): the deploy proves the template's wiring.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaBackend
from moto.awslambda.utils import get_backend
from moto.cloudformation import parsing  # every moto model first: a later subclass wins its type's place
from moto.core.common_models import CloudFormationModel


def _backend(account_id: str, region_name: str) -> LambdaBackend:
    return get_backend(account_id, region_name)


class PublishedVersion(CloudFormationModel):
    """`AWS::Lambda::Version`: publishes `FunctionName`'s current code and configuration; `Ref` is the version's
    ARN, `!GetAtt <it>.Version` its number. A changed property publishes another (AWS replaces the resource)."""

    def __init__(self, function_arn: str, version: str) -> None:
        self.function_arn = function_arn
        self.version = version

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Version"

    @property
    def physical_resource_id(self) -> str:
        return f"{self.function_arn}:{self.version}"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Version"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.version

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> PublishedVersion:
        properties = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        published = backend.publish_version(properties["FunctionName"], properties.get("Description", ""))
        assert published is not None  # moto returns None for an unknown function only, after raising for it
        return cls(backend.get_function(properties["FunctionName"]).function_arn, str(published.version))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: PublishedVersion,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> PublishedVersion:
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


class FunctionAlias(CloudFormationModel):
    """`AWS::Lambda::Alias`: `Name` pointing at `FunctionVersion` of `FunctionName`; `Ref` is the alias' ARN."""

    def __init__(self, arn: str, name: str, function_name: str) -> None:
        self.arn = arn
        self.name = name
        self.function_name = function_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> FunctionAlias:
        properties = cloudformation_json["Properties"]
        function, name = properties["FunctionName"], properties["Name"]
        alias = _backend(account_id, region_name).create_alias(
            name, function, str(properties["FunctionVersion"]), properties.get("Description", ""), ""
        )
        return cls(alias.arn, name, function)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: FunctionAlias,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> FunctionAlias:
        properties = cloudformation_json["Properties"]
        _backend(account_id, region_name).update_alias(
            original_resource.name,
            original_resource.function_name,
            str(properties["FunctionVersion"]),
            properties.get("Description", ""),
            "",
        )
        return original_resource


__all__ = ["FunctionAlias", "PublishedVersion", "parsing"]
