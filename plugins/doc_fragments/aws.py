# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The standard AWS options (credentials, endpoint, region; for plugins also a role to assume), as amazon.aws
documents them, in the collection's own fragment: the documentation renders without amazon.aws installed (Galaxy's
importer, Automation Hub), while the options themselves stay amazon.aws's (its argument spec and plugin base).
tests/unit/plugins/test_doc_fragments.py keeps every option here equal to amazon.aws's (names, types, aliases,
defaults, environment variables)."""

from __future__ import annotations


class ModuleDocFragment:
    # the options of every module (AnsibleAWSModule's argument spec)
    MODULES = r"""
options:
  access_key:
    description:
    - AWS access key ID.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - >-
      The C(AWS_ACCESS_KEY_ID) or C(AWS_ACCESS_KEY) environment variables may also be used in decreasing
      order of preference.
    - The I(aws_access_key) and I(profile) options are mutually exclusive.
    - >-
      The I(aws_access_key_id) alias was added in release 5.1.0 for consistency with the AWS botocore
      SDK.
    type: str
    aliases:
    - aws_access_key_id
    - aws_access_key
  secret_key:
    description:
    - AWS secret access key.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - >-
      The C(AWS_SECRET_ACCESS_KEY) or C(AWS_SECRET_KEY) environment variables may also be used in decreasing
      order of preference.
    - The I(secret_key) and I(profile) options are mutually exclusive.
    - >-
      The I(aws_secret_access_key) alias was added in release 5.1.0 for consistency with the AWS botocore
      SDK.
    type: str
    aliases:
    - aws_secret_access_key
    - aws_secret_key
  session_token:
    description:
    - AWS STS session token for use with temporary credentials.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - The C(AWS_SESSION_TOKEN) environment variable may also be used.
    - The I(session_token) and I(profile) options are mutually exclusive.
    type: str
    aliases:
    - aws_session_token
  profile:
    description:
    - A named AWS profile to use for authentication.
    - >-
      See the AWS documentation for more information about named profiles
      U(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-profiles.html).
    - The C(AWS_PROFILE) environment variable may also be used.
    - >-
      The I(profile) option is mutually exclusive with the I(aws_access_key), I(aws_secret_key) and I(session_token)
      options.
    type: str
    aliases:
    - aws_profile
  endpoint_url:
    description:
    - >-
      URL to connect to instead of the default AWS endpoints.  While this can be used to connection to
      other AWS-compatible services the amazon.aws and community.aws collections are only tested against
      AWS.
    - The  C(AWS_URL) environment variable may also be used.
    type: str
    aliases:
    - aws_endpoint_url
  aws_ca_bundle:
    description:
    - The location of a CA Bundle to use when validating SSL certificates.
    - The C(AWS_CA_BUNDLE) environment variable may also be used.
    type: path
  validate_certs:
    description:
    - >-
      When set to C(false), SSL certificates will not be validated for communication with the AWS APIs.
    - >-
      Setting I(validate_certs=false) is strongly discouraged, as an alternative, consider setting I(aws_ca_bundle)
      instead.
    type: bool
    default: true
  aws_config:
    description:
    - A dictionary to modify the botocore configuration.
    - >-
      Parameters can be found in the AWS documentation
      U(https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html#botocore.config.Config).
    type: dict
  debug_botocore_endpoint_logs:
    description:
    - >-
      Use a C(botocore.endpoint) logger to parse the unique (rather than total) C("resource:action") API
      calls made during a task, outputing the set to the resource_actions key in the task results. Use
      the C(aws_resource_action) callback to output to total list made during a playbook.
    - The C(ANSIBLE_DEBUG_BOTOCORE_LOGS) environment variable may also be used.
    type: bool
    default: false
  region:
    description:
    - The AWS region to use.
    - For global services such as IAM, Route53 and CloudFront, I(region) is ignored.
    - The C(AWS_REGION) environment variable may also be used.
    - >-
      See the Amazon AWS documentation for more information
      U(http://docs.aws.amazon.com/general/latest/gr/rande.html#ec2_region).
    type: str
    aliases:
    - aws_region
notes:
- >-
  B(Caution:) For modules, environment variables and configuration files are read from the Ansible 'host'
  context and not the 'controller' context. As such, files may need to be explicitly copied to the 'host'.  For
  lookup and connection plugins, environment variables and configuration files are read from the Ansible
  'controller' context and not the 'host' context.
- >-
  The AWS SDK (boto3) that Ansible uses may also read defaults for credentials and other settings, such
  as the region, from its configuration files in the Ansible 'host' context (typically C(~/.aws/credentials)).
  See U(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html) for more information.
requirements:
- python >= 3.10
- boto3 >= 1.35.69
- botocore >= 1.35.69
"""

    # the options of the inventory plugin (amazon.aws's plugin base: with environment variables and a role)
    PLUGINS = r"""
options:
  access_key:
    description:
    - AWS access key ID.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - The I(aws_access_key) and I(profile) options are mutually exclusive.
    - >-
      The I(aws_access_key_id) alias was added in release 5.1.0 for consistency with the AWS botocore
      SDK.
    type: str
    aliases:
    - aws_access_key_id
    - aws_access_key
    env:
    - name: AWS_ACCESS_KEY_ID
    - name: AWS_ACCESS_KEY
  secret_key:
    description:
    - AWS secret access key.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - The I(secret_key) and I(profile) options are mutually exclusive.
    - >-
      The I(aws_secret_access_key) alias was added in release 5.1.0 for consistency with the AWS botocore
      SDK.
    type: str
    aliases:
    - aws_secret_access_key
    - aws_secret_key
    env:
    - name: AWS_SECRET_ACCESS_KEY
    - name: AWS_SECRET_KEY
  session_token:
    description:
    - AWS STS session token for use with temporary credentials.
    - >-
      See the AWS documentation for more information about access tokens
      U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
    - The I(session_token) and I(profile) options are mutually exclusive.
    type: str
    aliases:
    - aws_session_token
    env:
    - name: AWS_SESSION_TOKEN
  profile:
    description:
    - A named AWS profile to use for authentication.
    - >-
      See the AWS documentation for more information about named profiles
      U(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-profiles.html).
    - >-
      The I(profile) option is mutually exclusive with the I(aws_access_key), I(aws_secret_key) and I(session_token)
      options.
    type: str
    aliases:
    - aws_profile
    env:
    - name: AWS_PROFILE
    - name: AWS_DEFAULT_PROFILE
  endpoint_url:
    description:
    - >-
      URL to connect to instead of the default AWS endpoints.  While this can be used to connection to
      other AWS-compatible services the amazon.aws and community.aws collections are only tested against
      AWS.
    type: str
    aliases:
    - aws_endpoint_url
    env:
    - name: AWS_URL
  region:
    description:
    - The AWS region to use.
    - >-
      See the Amazon AWS documentation for more information
      U(http://docs.aws.amazon.com/general/latest/gr/rande.html#ec2_region).
    type: str
    aliases:
    - aws_region
    env:
    - name: AWS_REGION
  assume_role_arn:
    description:
    - The ARN of the IAM role to assume to perform the lookup.
    - >-
      You should still provide AWS credentials with enough privilege to perform the AssumeRole action.
    aliases:
    - iam_role_arn
notes:
- >-
  B(Caution:) For modules, environment variables and configuration files are read from the Ansible 'host'
  context and not the 'controller' context. As such, files may need to be explicitly copied to the 'host'.  For
  lookup and connection plugins, environment variables and configuration files are read from the Ansible
  'controller' context and not the 'host' context.
- >-
  The AWS SDK (boto3) that Ansible uses may also read defaults for credentials and other settings, such
  as the region, from its configuration files in the Ansible 'host' context (typically C(~/.aws/credentials)).
  See U(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html) for more information.
requirements:
- python >= 3.10
- boto3 >= 1.35.69
- botocore >= 1.35.69
"""
