-- Spells from a status history (spell_role 'status', the immigration office's residence statuses): a
-- status holds from its date until the person's next status or move-away in the same city and agency.
-- Consecutive statuses of one legal circle form one spell (Aufenthaltserlaubnis then
-- Niederlassungserlaubnis: one AufenthG spell); a move-away ('status_end') closes the spell in that city.

-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

status_events as (

    select
        person_key,
        source_agency,
        city,
        legal_circle,
        spell_role,
        event_date,
        event_key,
        -- on one day, a status sorts before a move-away
        case when spell_role = 'status' then 0 else 1 end as role_order
    from {{ ref('int_events_with_person') }}
    where spell_role in ('status', 'status_end')
        and {{ for_changed_persons() }}

),

sequenced as (

    select
        *,
        lead(event_date) over (
            partition by person_key, source_agency, city
            order by event_date, role_order, legal_circle, event_key
        ) as next_event_date,
        lag(spell_role) over (
            partition by person_key, source_agency, city
            order by event_date, role_order, legal_circle, event_key
        ) as previous_role,
        lag(legal_circle) over (
            partition by person_key, source_agency, city
            order by event_date, role_order, legal_circle, event_key
        ) as previous_legal_circle
    from status_events

),

-- a status starts a new spell unless it continues a status of the same legal circle
numbered as (

    select
        *,
        sum(
            case
                when spell_role = 'status'
                    and (
                        previous_role is null
                        or previous_role = 'status_end'
                        or previous_legal_circle != legal_circle
                    )
                    then 1
                else 0
            end
        ) over (
            partition by person_key, source_agency, city
            order by event_date, role_order, legal_circle, event_key
            rows between unbounded preceding and current row
        ) as spell_number
    from sequenced

),

final as (

    select
        person_key,
        source_agency,
        legal_circle,
        city,
        min(event_date) as spell_start,
        -- open while the last status of the spell has nothing after it
        case
            when count(next_event_date) = count(*) then max(next_event_date)
        end as spell_end,
        cast(null as {{ dbt.type_string() }}) as end_detail,
        cast(null as boolean) as is_unaccompanied
    from numbered
    where spell_role = 'status'
    group by person_key, source_agency, legal_circle, city, spell_number

)

select * from final
