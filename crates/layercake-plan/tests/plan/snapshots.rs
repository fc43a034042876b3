//! Snapshots of the plan and of the LLB dump of every target of every testdata spec. Review a
//! changed snapshot as a diff of the build: a new op, a changed include pattern or mount is
//! a change in what invalidates the cache.

// Test helpers outside #[test] fns may fail loudly too.

use crate::common;

#[test]
fn plans_and_llb_of_every_testdata_target() {
    for project in common::projects() {
        let targets = project.targets();
        assert!(!targets.is_empty(), "{} has no services", project.name);
        for target in targets {
            let plan = project.plan_amd64(&target);
            assert_eq!(plan.service, target);
            let name = format!("{}__{}", project.name, target);
            insta::assert_json_snapshot!(format!("plan__{name}"), plan);
            let definition = common::definition(&plan);
            insta::assert_json_snapshot!(format!("llb__{name}"), definition.to_json());
        }
    }
}
