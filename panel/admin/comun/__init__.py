"""The shared view base: access rules, ``TenantModelView``, record links, counts and the
export plumbing every page uses."""
