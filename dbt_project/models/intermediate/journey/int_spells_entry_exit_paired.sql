-- Spells from entries and exits (spell_role 'entry' / 'exit', the jobcenter's SGB II entry and exit):
-- an entry opens a spell unless one is open, the first exit after it closes it. Repeated entries while
-- open and repeated exits while closed are absorbed; an exit before any entry opens nothing. On one day,
-- an entry sorts before an exit (a one-day spell).

-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

flows as (

    select
        person_key,
        source_agency,
        city,
        legal_circle,
        spell_role,
        event_date,
        event_key,
        detail,
        case when spell_role = 'entry' then 0 else 1 end as role_order
    from {{ ref('int_events_with_person') }}
    where spell_role in ('entry', 'exit')
        and {{ for_changed_persons() }}

),

sequenced as (

    select
        *,
        lag(spell_role) over (
            partition by person_key, source_agency, city, legal_circle
            order by event_date, role_order, event_key
        ) as previous_role
    from flows

),

numbered as (

    select
        *,
        sum(
            case when spell_role = 'entry' and (previous_role is null or previous_role = 'exit') then 1 else 0 end
        ) over (
            partition by person_key, source_agency, city, legal_circle
            order by event_date, role_order, event_key
            rows between unbounded preceding and current row
        ) as spell_number
    from sequenced

),

first_exits as (

    select
        *,
        row_number() over (
            partition by person_key, source_agency, city, legal_circle, spell_number
            order by event_date, detail, event_key
        ) as exit_rank
    from numbered
    where spell_role = 'exit'
        and spell_number > 0

),

spells as (

    select
        person_key,
        source_agency,
        legal_circle,
        city,
        spell_number,
        min(event_date) as spell_start
    from numbered
    where spell_role = 'entry'
    group by person_key, source_agency, legal_circle, city, spell_number

),

final as (

    select
        spells.person_key,
        spells.source_agency,
        spells.legal_circle,
        spells.city,
        spells.spell_start,
        first_exits.event_date as spell_end,
        first_exits.detail as end_detail,
        cast(null as boolean) as is_unaccompanied
    from spells
    left join first_exits
        on spells.person_key = first_exits.person_key
        and spells.source_agency = first_exits.source_agency
        and spells.legal_circle = first_exits.legal_circle
        and spells.city = first_exits.city
        and spells.spell_number = first_exits.spell_number
        and first_exits.exit_rank = 1

)

select * from final
