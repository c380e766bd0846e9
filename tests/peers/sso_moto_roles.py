"""Role credentials for the IAM Identity Center stand-in, minted by moto's STS.

Part of the stand-in started by `sso_portal.py`. Each permission set becomes the role
`AWSReservedSSO_<name>_<hex>` under `/aws-reserved/sso.amazonaws.com/` in every account
it is assigned in, deployed there by a CloudFormation StackSet on first use: with IAM
auth on, moto lets no caller create a role in another account directly, but a StackSet
instance is created by moto itself in the target account.
"""

import json
import sys
import threading

from sso_wire import ROLE_PATH, reserved_role_name, role_arn, role_suffix


class Moto:
    """Mints role credentials with moto's STS, provisioning the reserved role first."""

    def __init__(self, endpoint, principal_arn):
        import boto3  # only here: the stand-in's OIDC half needs nothing but the stdlib
        from botocore.config import Config

        kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        # Without botocore's parameter validation, so a test can ask for role
        # credentials shorter than STS's 900 s minimum (moto grants any duration):
        # rotation tests need credentials that lapse in seconds.
        self.sts = boto3.client("sts", config=Config(parameter_validation=False), **kwargs)
        self.cfn = boto3.client("cloudformation", **kwargs)
        self.principal_arn = principal_arn
        self.lock = threading.Lock()
        self.stack_sets = set()
        self.provisioned = set()

    def template(self, role_name):
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": self.principal_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        allow_all = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        # The permission set as an AWS::IAM::Policy resource: moto's IAM auth cannot
        # read a role's inline `Policies` created by CloudFormation.
        return json.dumps(
            {
                "Resources": {
                    "Role": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "RoleName": reserved_role_name(role_name),
                            "Path": ROLE_PATH,
                            "AssumeRolePolicyDocument": trust,
                        },
                    },
                    "PermissionSet": {
                        "Type": "AWS::IAM::Policy",
                        "Properties": {
                            "PolicyName": "AwsSSOInlinePolicy",
                            "Roles": [{"Ref": "Role"}],
                            "PolicyDocument": allow_all,
                        },
                    },
                }
            }
        )

    def stack_set(self, role_name):
        """The StackSet deploying the role of `role_name`, created on first use (the
        lock held)."""
        name = "rolehop-sso-" + role_suffix(role_name)
        if role_name not in self.stack_sets:
            self.cfn.create_stack_set(
                StackSetName=name,
                TemplateBody=self.template(role_name),
                PermissionModel="SELF_MANAGED",
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
            self.stack_sets.add(role_name)
        return name

    def prepare(self, role_names):
        """Creates the StackSets of newly seeded permission sets in the background:
        moto's first CloudFormation call takes seconds, better spent before a test
        asks for credentials than during."""

        def run():
            for role_name in role_names:
                try:
                    with self.lock:
                        self.stack_set(role_name)
                except Exception as e:  # the first GetRoleCredentials tries again
                    print(f"preparing {role_name}: {e}", file=sys.stderr)

        threading.Thread(target=run, daemon=True).start()

    def provision(self, account_id, role_name):
        with self.lock:
            if (account_id, role_name) in self.provisioned:
                return
            self.cfn.create_stack_instances(
                StackSetName=self.stack_set(role_name),
                Accounts=[account_id],
                Regions=["us-east-1"],
            )
            self.provisioned.add((account_id, role_name))

    def credentials(self, account_id, role_name, user, duration):
        self.provision(account_id, role_name)
        creds = self.sts.assume_role(
            RoleArn=role_arn(account_id, role_name),
            RoleSessionName=user,
            DurationSeconds=duration,
        )["Credentials"]
        return {
            "accessKeyId": creds["AccessKeyId"],
            "secretAccessKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
            "expiration": int(creds["Expiration"].timestamp() * 1000),
        }

