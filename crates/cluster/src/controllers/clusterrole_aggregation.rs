//! The clusterrole-aggregation controller, as upstream's: every ClusterRole with an
//! `aggregationRule` has its `rules` rewritten to the rules of the ClusterRoles its
//! selectors match, whenever any ClusterRole changes.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::ClusterRole;
use serde_json::json;

use crate::api::role_aggregation::gathered_rules;
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::Informer;
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "clusterrole-aggregation-controller";

const CLUSTER_ROLES: &str = "/apis/rbac.authorization.k8s.io/v1/clusterroles";

/// Keeps aggregated ClusterRoles' rules current.
pub struct ClusterRoleAggregationController {
    roles: Informer<ClusterRole>,
}

impl Default for ClusterRoleAggregationController {
    fn default() -> Self {
        ClusterRoleAggregationController {
            roles: Informer::new(CLUSTER_ROLES),
        }
    }
}

impl ClusterRoleAggregationController {
    /// Writes the rules of every aggregated ClusterRole whose rules are out of date.
    fn sync(&mut self, ctx: &mut Ctx) {
        let roles: BTreeMap<String, ClusterRole> = self
            .roles
            .iter()
            .map(|(_, role)| (role.metadata.name.clone().unwrap_or_default(), role.clone()))
            .collect();
        for (name, role) in &roles {
            if role.aggregation_rule.is_none() {
                continue;
            }
            let rules = gathered_rules(&roles, name);
            if role.rules.as_ref().unwrap_or(&Vec::new()) == &rules {
                continue;
            }
            ctx.call(Request::patch(
                format!("{CLUSTER_ROLES}/{name}"),
                "application/merge-patch+json",
                json!({ "rules": rules }).to_string(),
            ));
        }
    }
}

impl Component for ClusterRoleAggregationController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.roles.start(ctx);
        self.sync(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.roles.owns(watch) && !self.roles.handle(event, ctx).is_empty() {
            self.sync(ctx);
        }
    }

    fn on_timer(&mut self, _key: u64, _ctx: &mut Ctx) {}
}
