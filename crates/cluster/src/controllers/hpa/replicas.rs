//! How many replicas a resource utilization target asks for, as upstream's
//! `ReplicaCalculator.GetResourceReplicas`: the usage of ready pods against
//! their requests, a 10% tolerance, and conservative guesses for pods without
//! metrics or not yet ready (so starting pods do not cause over-scaling).

/// Upstream's default tolerance around the target ratio.
pub const TOLERANCE: f64 = 0.1;

/// One pod the target selects, as the calculation sees it.
#[derive(Clone, Copy, Debug)]
pub struct PodSample {
    /// Ready (Running with the Ready condition) rather than starting.
    pub ready: bool,
    /// Its usage of the resource, if metrics have it.
    pub usage: Option<i64>,
    /// The sum of its containers' requests of the resource.
    pub request: i64,
}

/// The outcome: desired replicas, utilization (% of requests) and average usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recommendation {
    pub replicas: i32,
    pub utilization: i64,
    pub average_usage: i64,
}

/// Usage ratio to the target over `(usage, request)` pairs: (ratio, utilization, average).
fn ratio(samples: &[(i64, i64)], target: i64) -> Option<(f64, i64, i64)> {
    let usage: i64 = samples.iter().map(|(u, _)| u).sum();
    let requests: i64 = samples.iter().map(|(_, r)| r).sum();
    if requests == 0 || samples.is_empty() {
        return None;
    }
    let utilization = usage * 100 / requests;
    Some((
        utilization as f64 / target as f64,
        utilization,
        usage / samples.len() as i64,
    ))
}

/// The replicas for `target` percent utilization with `current` replicas now,
/// or why it cannot be computed.
pub fn for_utilization(
    current: i32,
    pods: &[PodSample],
    target: i64,
) -> Result<Recommendation, String> {
    let measured: Vec<(i64, i64)> = pods
        .iter()
        .filter(|p| p.ready)
        .filter_map(|p| Some((p.usage?, p.request)))
        .collect();
    let missing: Vec<&PodSample> = pods.iter().filter(|p| p.usage.is_none()).collect();
    let unready: Vec<&PodSample> = pods
        .iter()
        .filter(|p| !p.ready && p.usage.is_some())
        .collect();
    let Some((usage_ratio, utilization, average_usage)) = ratio(&measured, target) else {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    };
    let keep = Recommendation {
        replicas: current,
        utilization,
        average_usage,
    };
    let scale_up_with_unready = !unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - usage_ratio).abs() <= TOLERANCE {
            return Ok(keep);
        }
        return Ok(Recommendation {
            replicas: (usage_ratio * measured.len() as f64).ceil() as i32,
            ..keep
        });
    }
    // Guess conservatively: missing pods use all of their request when scaling
    // down and nothing when scaling up; unready pods use nothing.
    let mut guessed = measured.clone();
    for pod in &missing {
        let usage = if usage_ratio < 1.0 { pod.request } else { 0 };
        guessed.push((usage, pod.request));
    }
    if scale_up_with_unready {
        guessed.extend(unready.iter().map(|p| (0, p.request)));
    }
    let Some((new_ratio, _, _)) = ratio(&guessed, target) else {
        return Ok(keep);
    };
    if (1.0 - new_ratio).abs() <= TOLERANCE
        || (usage_ratio < 1.0 && new_ratio > 1.0)
        || (usage_ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(keep);
    }
    let replicas = (new_ratio * guessed.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(keep);
    }
    Ok(Recommendation { replicas, ..keep })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(usage: i64, request: i64) -> PodSample {
        PodSample {
            ready: true,
            usage: Some(usage),
            request,
        }
    }

    #[test]
    fn the_walkthrough_settles_at_seven_replicas() {
        // One load generator (650m) on php-apache pods requesting 200m, target 50%.
        let one = for_utilization(1, &[ready(500, 200)], 50).unwrap();
        assert_eq!((one.replicas, one.utilization), (5, 250));
        let five = for_utilization(5, &[ready(130, 200); 5], 50).unwrap();
        assert_eq!(five.replicas, 7);
        let seven = for_utilization(7, &[ready(93, 200); 7], 50).unwrap();
        assert_eq!(seven.replicas, 7, "46% is within the 10% tolerance of 50%");
    }

    #[test]
    fn starting_pods_count_as_idle_when_scaling_up() {
        let starting = PodSample {
            ready: false,
            usage: Some(0),
            request: 100,
        };
        let r = for_utilization(2, &[ready(150, 100), starting], 50).unwrap();
        assert_eq!(r.replicas, 3, "150% over two pods, not three over one");
    }
}
