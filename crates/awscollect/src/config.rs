//! The SDK configuration for one region: credentials without IMDS, the
//! standard retry policy, timeouts, an optional endpoint.
//!
//! Why it exists: Warden must never call the EC2 instance metadata service
//! (169.254.169.254): on a workstation it is at best a slow timeout, on an
//! EC2 host it would silently use the host's role instead of the operator's.
//! The credentials chain here is the SDK's standard one — environment,
//! shared config/credentials profile (with `role_arn`/`source_profile`),
//! web identity token, ECS container — minus its last link, IMDS; a profile
//! whose `credential_source` is `Ec2InstanceMetadata` gets an error instead.
//! The caller also sets `AWS_EC2_METADATA_DISABLED=true` in the process
//! ([`disable_imds`]), so nothing else in the SDK reaches IMDS either.

use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use crate::Options;

/// Sets `AWS_EC2_METADATA_DISABLED=true` in this process.
///
/// # Safety
///
/// Changes the process environment: call it before any other thread
/// exists (before the tokio runtime is built), as `std::env::set_var`
/// requires.
pub unsafe fn disable_imds() {
    // SAFETY: the caller guarantees no other thread reads or writes the environment.
    unsafe { std::env::set_var("AWS_EC2_METADATA_DISABLED", "true") };
}

/// Stands in for IMDS where a profile names it as `credential_source`.
#[derive(Debug)]
struct NoImds;

impl ProvideCredentials for NoImds {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "the EC2 instance metadata service is never used by warden (credential_source = Ec2InstanceMetadata)",
        )))
    }
}

/// The SDK configuration for `region`.
pub(crate) async fn load(region: &str, options: &Options) -> SdkConfig {
    let region = Region::new(region.to_string());
    let provider_config = ProviderConfig::default().with_region(Some(region.clone()));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.max_attempts.max(1))
                .with_initial_backoff(options.initial_backoff),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(credentials) = &options.static_credentials {
        loader = loader.credentials_provider(credentials.clone());
    } else {
        let mut profile = ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .with_custom_provider("Ec2InstanceMetadata", NoImds);
        if let Some(name) = &options.profile {
            profile = profile.profile_name(name);
        }
        let web_identity = WebIdentityTokenCredentialsProvider::builder().configure(&provider_config).build();
        let ecs = aws_config::ecs::EcsCredentialsProvider::builder().configure(&provider_config).build();
        let chain = CredentialsProviderChain::first_try("Environment", EnvironmentVariableCredentialsProvider::new())
            .or_else("Profile", profile.build())
            .or_else("WebIdentityToken", web_identity)
            .or_else("EcsContainer", ecs);
        loader = loader.credentials_provider(chain);
    }
    if let Some(name) = &options.profile {
        loader = loader.profile_name(name);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
