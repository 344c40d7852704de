{#
    Identity resolution: each employee's account on each enabled platform,
    from the roster column the platform registry names (roster_handle_column).
    `author_key` says what the handle identifies: 'username' (matched
    case-insensitively with a post's author_username) or 'user_id' (matched
    with author_platform_user_id). A handle listed for two employees goes to
    the one still employed, then the most recently hired, then the lowest id.
#}
with

accounts as (

    {{ roster_accounts_union() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, handle
            order by (left_at is null) desc, hired_at desc nulls last, employee_id asc
        ) as handle_rank
    from accounts

),

final as (

    select
        employee_id,
        platform,
        handle,
        author_key
    from ranked
    where handle_rank = 1

)

select * from final
