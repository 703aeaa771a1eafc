//! The review APIs nothing is stored for: `authorization.k8s.io/v1`'s
//! SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview and
//! SelfSubjectRulesReview (what `kubectl auth can-i` asks), and
//! `authentication.k8s.io/v1`'s SelfSubjectReview (`kubectl auth whoami`).

use k8s_openapi::api::authentication::v1 as authentication;
use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, NonResourceAttributes, NonResourceRule, ResourceAttributes,
    ResourceRule, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
    SubjectAccessReviewStatus, SubjectRulesReviewStatus,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::attributes::{Attributes, Target};
use crate::api::request::{Request, Response, UserInfo};
use crate::api::status::{FieldError, StatusError};
use crate::apiserver::route::ResourceRequest;
use crate::apiserver::ApiServer;

/// The group of the access reviews.
pub const AUTHORIZATION_GROUP: &str = "authorization.k8s.io";
/// The group of SelfSubjectReview.
pub const AUTHENTICATION_GROUP: &str = "authentication.k8s.io";

/// The attributes one review's spec asks about.
fn review_attributes<'a>(
    user: &'a UserInfo,
    resource: Option<&'a ResourceAttributes>,
    non_resource: Option<&'a NonResourceAttributes>,
) -> Attributes<'a> {
    let text = |s: &'a Option<String>| s.as_deref().unwrap_or("");
    match (resource, non_resource) {
        (Some(r), _) => Attributes {
            user,
            verb: text(&r.verb),
            target: Target::Resource {
                group: text(&r.group),
                resource: text(&r.resource),
                subresource: text(&r.subresource),
                namespace: text(&r.namespace),
                name: text(&r.name),
            },
        },
        (None, Some(n)) => Attributes {
            user,
            verb: text(&n.verb),
            target: Target::Path(text(&n.path)),
        },
        (None, None) => unreachable!("validated: one of the two is set"),
    }
}

/// Upstream's check that a spec names exactly one kind of attributes.
fn attribute_errors(
    resource: Option<&ResourceAttributes>,
    non_resource: Option<&NonResourceAttributes>,
) -> Vec<FieldError> {
    match (resource, non_resource) {
        (Some(_), Some(n)) => vec![FieldError::invalid(
            "spec.nonResourceAttributes",
            &serde_json::to_value(n).unwrap_or_default(),
            "cannot be specified in combination with resourceAttributes",
        )],
        (None, None) => vec![FieldError::invalid(
            "spec.resourceAttributes",
            &Value::Null,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
        _ => Vec::new(),
    }
}

fn status_of(decision: Result<String, String>) -> SubjectAccessReviewStatus {
    let (allowed, reason) = match decision {
        Ok(reason) => (true, reason),
        Err(reason) => (false, reason),
    };
    SubjectAccessReviewStatus {
        allowed,
        reason: Some(reason).filter(|r| !r.is_empty()),
        ..Default::default()
    }
}

fn created<T: Serialize>(review: &T) -> Result<Response, StatusError> {
    let body = serde_json::to_string(review).map_err(|e| StatusError::internal(e.to_string()))?;
    Ok(Response::json(201, body))
}

impl ApiServer {
    /// Decodes a review body of `resource` into its type.
    fn review<T: DeserializeOwned>(
        &self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
    ) -> Result<T, StatusError> {
        let value = self.decode_body(req, resource, namespace)?;
        serde_json::from_value(value)
            .map_err(|e| StatusError::cannot_handle(&self.served[resource].info, &e.to_string()))
    }

    /// The decision on `attributes`, with upstream's reason either way.
    fn decide(&mut self, attributes: &Attributes) -> Result<String, String> {
        self.policy()
            .authorize(attributes)
            .map(|grant| grant.reason())
    }

    /// Handles a create of one of the review kinds, made by `req.user`.
    pub(in crate::apiserver) fn handle_review(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
    ) -> Result<Response, StatusError> {
        let resource = self
            .resource_id(&rr.group, &rr.version, &rr.resource)
            .ok_or_else(StatusError::no_route)?;
        if rr.verb != "create" || rr.subresource.is_some() {
            return Err(StatusError::method_not_allowed());
        }
        let info = self.served[resource].info.clone();
        let namespace = rr.namespace.as_deref();
        let invalid = |errors: &[FieldError]| StatusError::invalid(&info, "", errors);
        match rr.resource.as_str() {
            "selfsubjectaccessreviews" => {
                let mut review: SelfSubjectAccessReview = self.review(req, resource, None)?;
                let spec = &review.spec;
                let (r, n) = (
                    spec.resource_attributes.as_ref(),
                    spec.non_resource_attributes.as_ref(),
                );
                let errors = attribute_errors(r, n);
                if !errors.is_empty() {
                    return Err(invalid(&errors));
                }
                let decision = self.decide(&review_attributes(&req.user, r, n));
                review.status = Some(status_of(decision));
                created(&review)
            }
            "subjectaccessreviews" | "localsubjectaccessreviews" => {
                let local = rr.resource == "localsubjectaccessreviews";
                let mut review: SubjectAccessReview = if local {
                    let review: LocalSubjectAccessReview = self.review(req, resource, namespace)?;
                    SubjectAccessReview {
                        metadata: review.metadata,
                        spec: review.spec,
                        status: None,
                    }
                } else {
                    self.review(req, resource, None)?
                };
                let spec = &review.spec;
                let (r, n) = (
                    spec.resource_attributes.as_ref(),
                    spec.non_resource_attributes.as_ref(),
                );
                let mut errors = attribute_errors(r, n);
                let user = UserInfo {
                    username: spec.user.clone().unwrap_or_default(),
                    groups: spec.groups.clone().unwrap_or_default(),
                };
                if user.username.is_empty() && user.groups.is_empty() {
                    errors.push(FieldError::invalid(
                        "spec.user",
                        &Value::String(String::new()),
                        "at least one of user or group must be specified",
                    ));
                }
                if !errors.is_empty() {
                    return Err(invalid(&errors));
                }
                if local {
                    let ns = namespace.unwrap_or("");
                    if r.is_some_and(|r| r.namespace.as_deref().unwrap_or("") != ns) {
                        return Err(StatusError::bad_request(format!(
                            "spec.resourceAttributes.namespace must match namespace: {ns}"
                        )));
                    }
                }
                let decision = self.decide(&review_attributes(&user, r, n));
                review.status = Some(status_of(decision));
                if local {
                    return created(&LocalSubjectAccessReview {
                        metadata: review.metadata,
                        spec: review.spec,
                        status: review.status,
                    });
                }
                created(&review)
            }
            "selfsubjectrulesreviews" => {
                let mut review: SelfSubjectRulesReview = self.review(req, resource, None)?;
                let namespace = review.spec.namespace.clone().unwrap_or_default();
                let (rules, errors) = self.policy().rules_for(&req.user, &namespace);
                let mut status = SubjectRulesReviewStatus {
                    incomplete: !errors.is_empty(),
                    evaluation_error: Some(errors.join(", ")).filter(|e| !e.is_empty()),
                    ..Default::default()
                };
                for rule in rules {
                    match &rule.non_resource_urls {
                        Some(urls) if !urls.is_empty() => {
                            status.non_resource_rules.push(NonResourceRule {
                                verbs: rule.verbs,
                                non_resource_urls: Some(urls.clone()),
                            })
                        }
                        _ => status.resource_rules.push(ResourceRule {
                            verbs: rule.verbs,
                            api_groups: rule.api_groups,
                            resources: rule.resources,
                            resource_names: rule.resource_names,
                        }),
                    }
                }
                review.status = Some(status);
                created(&review)
            }
            "selfsubjectreviews" => {
                let mut review: authentication::SelfSubjectReview =
                    self.review(req, resource, None)?;
                review.status = Some(authentication::SelfSubjectReviewStatus {
                    user_info: Some(authentication::UserInfo {
                        username: Some(req.user.username.clone()),
                        groups: Some(req.user.groups.clone()).filter(|g| !g.is_empty()),
                        ..Default::default()
                    }),
                });
                created(&review)
            }
            _ => Err(StatusError::no_route()),
        }
    }
}
