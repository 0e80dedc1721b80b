"""English and Persian words of the dashboard and the reports: one dictionary, one ``term()``, country names.

Every visible word goes through :func:`translate` (messages, headings, column heads) or :func:`term`
(vocabulary codes of the registry, the model's dimensions, network measures).  Numbers and dates are
formatted by :mod:`citydiplomacy.present.fmt`.

The page language of the dashboard comes from ``?lang=`` on any URL (remembered in the ``lang``
cookie), else the cookie, else English (:func:`pick_language`).  Persian pages are right-to-left.
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

LANGUAGES: tuple[str, ...] = ("en", "fa")
DEFAULT_LANGUAGE = "en"
#: The dashboard's cookie remembering a ``?lang=`` choice.
LANG_COOKIE = "lang"

#: message key -> (English, Persian): dashboard and report alike.
MESSAGES: dict[str, tuple[str, str]] = {
    "app_title": ("CityDiplomacy Observatory", "رصدخانه دیپلماسی شهری"),
    "search": ("Search", "جستجو"),
    "search_placeholder": ("City or organisation name", "نام شهر یا سازمان"),
    "matched_name": ("found as", "یافته با نام"),
    "matched_name_hint": (
        "The name this place was found by: another spelling, language or an earlier name",
        "نامی که این مکان با آن یافته شد: املای دیگر، زبان دیگر یا نام پیشین",
    ),
    "key_figures": ("Key figures", "ارقام کلیدی"),
    # the year a source states its facts for (the case study's tables: 1391 SH, 1400 SH)
    "as_of_year": ("as of {year}", "وضعیت سال {year}"),
    # --- the office's workbook (ingest/workbook.py): its About sheet ---
    "office_workbook": ("Workbook (XLSX)", "کارپوشه (XLSX)"),
    "workbook_about": (
        "The office's record of cooperation. Each sheet is one record type; records name each other by the "
        "ref column of their sheet, not by ids. Dates are given twice: Gregorian (YYYY-MM-DD) and Solar Hijri "
        "(the _sh column); on import either may be filled, and both must agree.",
        "سابقهٔ همکاری‌های دفتر. هر برگه یک نوع رکورد است؛ رکوردها با ستون ref برگهٔ خود به هم ارجاع می‌دهند، نه با "
        "شناسه. تاریخ‌ها دو بار آمده‌اند: میلادی (YYYY-MM-DD) و خورشیدی (ستون ‎_sh)؛ در ورود هر یک بس است و اگر هر "
        "دو پر باشند باید یکی باشند.",
    ),
    "workbook_sheet_places": ("Places named by the other sheets", "مکان‌هایی که برگه‌های دیگر نام می‌برند"),
    "workbook_sheet_people": ("Officials and staff: names, titles, units", "مقامات و کارکنان: نام، سمت، واحد"),
    "workbook_sheet_signatories": ("Who signed each agreement, in which role", "امضاکنندگان هر توافق‌نامه و نقش آنان"),
    "workbook_sheet_activity_people": (
        "People on each delegation, visit or activity",
        "افراد هر هیئت، بازدید یا فعالیت",
    ),
    "workbook_sheet_organisations": ("Organisations (networks, UN agencies)", "سازمان‌ها (شبکه‌ها، نهادهای سازمان ملل)"),
    "workbook_sheet_agreements": ("Agreements and relations, with their parties", "توافق‌نامه‌ها و روابط، با طرف‌هایشان"),
    "workbook_sheet_status_history": (
        "Each status an agreement took: who, when, why",
        "هر وضعیتی که توافق‌نامه داشته: چه کسی، کی، چرا",
    ),
    "workbook_sheet_memberships": ("Memberships of organisations, with roles", "عضویت در سازمان‌ها، با نقش"),
    "workbook_sheet_dues": ("Membership dues per year", "حق عضویت سالانه"),
    "workbook_sheet_activities": (
        "Activities, visits, delegations, with their cost",
        "فعالیت‌ها، بازدیدها، هیئت‌ها، با هزینه",
    ),
    "workbook_sheet_participants": ("Who took part in each activity", "شرکت‌کنندگان هر فعالیت"),
    "workbook_sheet_outcomes": ("What agreements and activities yielded", "دستاوردهای توافق‌نامه‌ها و فعالیت‌ها"),
    "workbook_sheet_follow_up_actions": (
        "Follow-up actions: owner, due date, state",
        "اقدامات پیگیری: مسئول، موعد، وضعیت",
    ),
    "workbook_sheet_documents": (
        "Documents (signed texts, minutes) with their checksums; the files travel in the .zip export",
        "اسناد (متن امضاشده، صورت‌جلسه) با چکیده‌شان؛ خود پرونده‌ها در خروجی ‎.zip‎ همراه‌اند",
    ),
    "places": ("Places", "مکان\u200cها"),
    "place": ("Place", "مکان"),
    "cities": ("Cities", "شهرها"),
    "relations": ("Relations", "روابط"),
    "relation": ("Relation", "رابطه"),
    "memberships": ("Memberships", "عضویت\u200cها"),
    "membership": ("Membership", "عضویت"),
    "organisations": ("Organisations", "سازمان\u200cها"),
    "organisation": ("Organisation", "سازمان"),
    "activities": ("Activities", "فعالیت\u200cها"),
    "activity": ("Activity", "فعالیت"),
    "audit_log": ("Audit log", "گزارش تغییرات"),
    "review_queue": ("Review queue", "صف بازبینی"),
    "rankings": ("Rankings", "رتبه\u200cبندی"),
    "network": ("Network", "شبکه"),
    "network_explorer": ("Network explorer", "کاوشگر شبکه"),
    "network_position": ("Network position", "جایگاه در شبکه"),
    "data_entry": ("Data entry", "ورود داده"),
    "login": ("Log in", "ورود"),
    "logout": ("Log out", "خروج"),
    "username": ("User name", "نام کاربری"),
    "password": ("Password", "گذرواژه"),
    "role": ("Role", "نقش"),
    "kind": ("Kind", "نوع"),
    "status": ("Status", "وضعیت"),
    "partner": ("Partner", "شریک"),
    "country": ("Country", "کشور"),
    "first_level_region": ("Region", "استان"),
    "population": ("Population", "جمعیت"),
    "gazetteer_identifier": (
        "The place's identifier in the gazetteer it was matched to (for experts: GeoNames ids, "
        "countries-states-cities database ids, ISO 3166-2 codes)",
        "شناسه مکان در فهرست جغرافیایی‌ای که با آن تطبیق داده شد (برای کارشناسان: شناسه GeoNames، "
        "شناسه پایگاه کشورها، استان‌ها و شهرها، کد ISO 3166-2)",
    ),
    # The gazetteers a place's identifier belongs to (gazetteer_label).
    "gazetteer_geonames": ("GeoNames", "GeoNames"),
    "gazetteer_csc": ("countries-states-cities database", "پایگاه کشورها، استان‌ها و شهرها"),
    "gazetteer_iso3166-2": ("ISO 3166-2", "ISO 3166-2"),
    "gazetteer_source": ("as the source wrote it", "به همان صورت که منبع نوشته"),
    "gazetteer_manual": ("entered by hand", "واردشده به دست کاربر"),
    "gazetteer_geonames-district": ("district of a GeoNames place", "منطقه‌ای از مکانی در GeoNames"),
    "gazetteer_csc-district": (
        "district of a countries-states-cities place",
        "منطقه‌ای از مکانی در پایگاه کشورها، استان‌ها و شهرها",
    ),
    "year": ("Year", "سال"),
    "date": ("Date", "تاریخ"),
    "since": ("Since", "از"),
    "until": ("Until", "تا"),
    "title": ("Title", "عنوان"),
    "name": ("Name", "نام"),
    "name_fa": ("Persian name", "نام فارسی"),
    "source": ("Source", "منبع"),
    "actions": ("Actions", "اقدامات"),
    "edit": ("Edit", "ویرایش"),
    "add": ("Add", "افزودن"),
    "save": ("Save", "ذخیره"),
    "resolve": ("Resolve", "حل"),
    "candidates": ("Candidates", "نامزدها"),
    "no_data": ("No records yet.", "هنوز رکوردی نیست."),
    "no_assessment": ("No assessment run yet.", "هنوز ارزیابی اجرا نشده است."),
    "no_network": ("No network analysis run yet.", "هنوز تحلیل شبکه اجرا نشده است."),
    "index_chart": ("Index and dimensions", "شاخص و ابعاد"),
    "partners_map": ("Partners on the world map", "شرکا روی نقشه جهان"),
    "members_map": ("Members map", "نقشه اعضا"),
    "growth": ("Growth over time", "رشد در طول زمان"),
    "member_counts": ("Member counts stated by the sources", "تعداد اعضا به گفته منابع"),
    "member_count": ("Member count", "تعداد اعضا"),
    "stated_count": ("Stated by a source", "به گفته منبع"),
    "stated_count_axis": ("Number stated by the source", "تعداد به گفته منبع"),
    "in_year": ("in", "در سال"),
    "qualifier_more_than": ("more than", "بیش از"),
    "qualifier_about": ("about", "حدود"),
    "one_observation": (
        "Each count was stated for one year only: there is no trend to draw.",
        "هر تعداد تنها برای یک سال بیان شده است: روندی برای رسم وجود ندارد.",
    ),
    "no_member_counts": ("No source states its number of members.", "هیچ منبعی تعداد اعضای آن را بیان نکرده است."),
    "no_members": (
        "The registry has no member of this organisation yet.",
        "پایگاه داده هنوز عضوی از این سازمان ندارد.",
    ),
    "no_members_located": (
        "None of its members in the registry has coordinates, so there is no map.",
        "هیچ یک از اعضای آن در پایگاه داده مختصات ندارد؛ از این رو نقشه‌ای نیست.",
    ),
    "timeline": ("Activities timeline", "گاهشمار فعالیت\u200cها"),
    "recommendations": ("Recommendations", "توصیه\u200cها"),
    "swot": ("SWOT", "تحلیل SWOT"),
    "rank": ("Rank", "رتبه"),
    "rank_interval": ("Rank interval", "بازه رتبه"),
    "value": ("Value", "مقدار"),
    "when": ("When", "زمان"),
    "who": ("Who", "چه کسی"),
    "what": ("What changed", "چه تغییری"),
    "entity": ("Record", "رکورد"),
    "action": ("Action", "عمل"),
    "previous": ("Previous", "قبلی"),
    "next": ("Next", "بعدی"),
    "total": ("Total", "جمع"),
    "error": ("Error", "خطا"),
    "not_found": ("Not found", "پیدا نشد"),
    "forbidden": ("You are not allowed to do this.", "شما اجازه این کار را ندارید."),
    "stale": (
        "Someone else changed this record while you were editing it. Reload to see their change.",
        "شخص دیگری هم\u200cزمان این رکورد را تغییر داده است. برای دیدن تغییر، صفحه را دوباره بارگذاری کنید.",
    ),
    "bad_login": ("Wrong user name or password.", "نام کاربری یا گذرواژه نادرست است."),
    "too_many": ("Too many attempts; wait a minute.", "تلاش\u200cهای زیاد؛ یک دقیقه صبر کنید."),
    "db_unavailable": (
        "The database is unavailable right now; nothing was written. Try again shortly.",
        "پایگاه داده اکنون در دسترس نیست؛ چیزی نوشته نشد. کمی بعد دوباره تلاش کنید.",
    ),
    "saved": ("Saved.", "ذخیره شد."),
    "resolved": ("Resolved.", "حل شد."),
    "language": ("فارسی", "English"),
    "score": ("Score", "امتیاز"),
    "place_id": ("Place", "مکان"),
    "notes": ("Notes", "یادداشت"),
    "description": ("Description", "توضیح"),
    "locator": ("Where in the source", "محل در منبع"),
    "provenance": ("Provenance", "منشأ"),
    "members": ("Members", "اعضا"),
    "acronym": ("Acronym", "سرنام"),
    "founded": ("Founded", "تأسیس"),
    "run": ("Run", "اجرا"),
    "code": ("Code", "کد"),
    "version": ("Version", "نسخه"),
    "mentions_ambiguous": ("Ambiguous place matches", "تطبیق\u200cهای مبهم مکان"),
    "choose_place": ("Choose the place", "مکان را انتخاب کنید"),
    "in_source": ("As written in the source", "به صورت نوشته\u200cشده در منبع"),
    "by_kind_status": ("Relations by kind and status", "روابط بر اساس نوع و وضعیت"),
    "page": ("Page", "صفحه"),
    "place_a_id": ("Place A", "مکان الف"),
    "place_b_id": ("Place B", "مکان ب"),
    "organisation_id": ("Organisation", "سازمان"),
    "seat_place_id": ("Seat (place id)", "مقر (شناسه مکان)"),
    "source_locator": ("Where in the source", "محل در منبع"),
    "signed_on": ("Signed on", "تاریخ امضا"),
    "signed_year": ("Year signed", "سال امضا"),
    "ended_year": ("Year ended", "سال پایان"),
    "since_year": ("Since (year)", "از سال"),
    "until_year": ("Until (year)", "تا سال"),
    "happened_on": ("Date", "تاریخ"),
    "title_fa": ("Persian title", "عنوان فارسی"),
    "role_verbatim": ("Role as the source states it", "نقش به بیان منبع"),
    "dimensions": ("Dimensions", "ابعاد"),
    "themes": ("Themes (comma-separated)", "موضوعات (با ویرگول)"),
    "country_code": ("Country (ISO code)", "کشور (کد ISO)"),
    "admin_level": ("Level", "سطح"),
    "lat": ("Latitude (°N)", "عرض جغرافیایی"),
    "lng": ("Longitude (°E)", "طول جغرافیایی"),
    "is_capital": ("Capital", "پایتخت"),
    "scale": ("Scale", "مقیاس"),
    "report_title": ("City diplomacy profile", "نیم\u200cرخ دیپلماسی شهری"),
    "generated": ("Generated", "تاریخ تهیه"),
    "capital": ("Capital city", "پایتخت"),
    "yes": ("yes", "بله"),
    "no": ("no", "خیر"),
    "unknown": ("unknown", "نامشخص"),
    "gazetteer_id": ("Gazetteer id", "شناسه در فرهنگ جغرافیایی"),
    "coordinates": ("Coordinates", "مختصات"),
    "relations_total": ("Bilateral relations", "روابط دوجانبه"),
    "relations_active": ("in force", "فعال"),
    "partner_countries": ("Partner countries", "کشورهای شریک"),
    "memberships_total": ("Network memberships", "عضویت در شبکه\u200cها"),
    "leadership_roles": ("Leadership roles", "نقش\u200cهای رهبری"),
    "sources_total": ("Sources cited", "منابع استنادشده"),
    "cdi": ("City Diplomacy Index", "شاخص دیپلماسی شهری"),
    "cdi_short": ("CDI", "شاخص کل"),
    "members_in_registry": ("Members in the registry", "اعضا در پایگاه داده"),
    "count": ("Number of relations", "تعداد روابط"),
    "map_note": (
        "Lines join the city to each partner; colour shows the kind of relation.",
        "خطوط شهر را به هر شریک وصل می\u200cکنند؛ رنگ، نوع رابطه را نشان می\u200cدهد.",
    ),
    "no_coordinates": ("partners without coordinates", "شریک بدون مختصات"),
    "relations_list": ("Relations", "فهرست روابط"),
    "signed": ("Signed", "امضا"),
    "ended": ("Ended", "پایان"),
    "memberships_title": ("Memberships and roles", "عضویت\u200cها و نقش\u200cها"),
    "years": ("Years", "سال\u200cها"),
    "undated": ("date not stated", "تاریخ ذکر نشده"),
    "dated_only": (
        "The chart shows the activities whose year is known.",
        "نمودار فقط فعالیت\u200cهایی را نشان می\u200cدهد که سالشان معلوم است.",
    ),
    "assessment": ("City Diplomacy Index and dimensions", "شاخص دیپلماسی شهری و ابعاد آن"),
    "not_assessed": (
        "Not assessed yet. Run `citydip assess` to compute the index.",
        "هنوز ارزیابی نشده است. برای محاسبه شاخص، فرمان citydip assess را اجرا کنید.",
    ),
    "rank_of": ("of", "از"),
    "coverage": ("Indicator coverage", "پوشش شاخص\u200cها"),
    "interval": ("Uncertainty interval", "بازه عدم قطعیت"),
    "no_interval": ("not computed by this run", "در این اجرا محاسبه نشده"),
    "dimension": ("Dimension", "بُعد"),
    "method": ("Method", "روش"),
    "measure": ("Measure", "سنجه"),
    "sources": ("Sources", "منابع"),
    "sources_note": (
        "Every record above cites a source; the bracketed number refers to this list.",
        "هر رکورد بالا به یک منبع استناد می\u200cکند؛ شماره داخل کروشه به این فهرست اشاره دارد.",
    ),
    "file": ("File", "پرونده"),
    "cited_at": ("Cited at", "محل\u200cهای استناد"),
    "records": ("records", "رکورد"),
    "none": ("None recorded.", "موردی ثبت نشده است."),
    "no_source": ("no source recorded", "منبعی ثبت نشده"),
    "calendar_note": ("Dates: Gregorian (Solar Hijri).", "تاریخ\u200cها: هجری شمسی (میلادی)."),
    "sh": ("SH", "ش"),
    "score_100": ("Score (0-100)", "امتیاز (۰ تا ۱۰۰)"),
    "network_not_run": (
        "No network analysis yet. Run `citydip network` to compute it.",
        "هنوز تحلیل شبکه انجام نشده است. برای محاسبه، فرمان citydip network را اجرا کنید.",
    ),
    # --- jobs and the freshness of results
    "jobs": ("Jobs", "کارها"),
    "jobs_note": (
        "Network metrics and the assessment run here as jobs, one at a time; this page follows their progress.",
        "سنجه‌های شبکه و ارزیابی اینجا به صورت کار، یکی پس از دیگری، اجرا می‌شوند؛ پیشرفتشان اینجا دیده می‌شود.",
    ),
    "rerun_network": ("Re-run network metrics", "اجرای دوباره سنجه‌های شبکه"),
    "rerun_assessment": ("Re-run the assessment", "اجرای دوباره ارزیابی"),
    "uncertainty_samples": ("Monte Carlo samples", "نمونه‌های مونت‌کارلو"),
    "progress": ("Progress", "پیشرفت"),
    "result": ("Result", "نتیجه"),
    "no_jobs": ("No job has run yet.", "هنوز کاری اجرا نشده است."),
    "job_network": ("network metrics", "سنجه‌های شبکه"),
    "job_assessment": ("assessment", "ارزیابی"),
    "job_state_queued": ("queued", "در نوبت"),
    "job_state_running": ("running", "در حال اجرا"),
    "job_state_done": ("done", "انجام شد"),
    "job_state_failed": ("failed", "ناموفق"),
    "from_run": ("From run", "از اجرای"),
    "changes_since": ("changes to the registry since this run", "تغییر در پایگاه از زمان این اجرا"),
    "up_to_date": ("up to date with the registry", "هم‌خوان با داده‌های کنونی"),
    "rerun": ("Re-run", "اجرای دوباره"),
    # --- places: the review queue ---
    "review_resolve": ("Confirm this place", "تأیید این مکان"),
    "review_keep": ("Keep as a new place", "نگه‌داشتن به‌عنوان مکانی تازه"),
    "review_reject": ("None of these", "هیچ‌کدام"),
    "review_best": ("best match", "بهترین گزینه"),
    "review_region": ("Region", "منطقه"),
    "review_distance": ("Distance from the source's coordinates", "فاصله از مختصات منبع"),
    "review_km": ("km", "کیلومتر"),
    "review_resolved": ("Confirmed: the mention is linked to the place.", "تأیید شد: نام به مکان پیوند خورد."),
    "review_kept": ("Kept as a new place.", "به‌عنوان مکانی تازه نگه داشته شد."),
    "review_rejected": ("Recorded: none of the candidates.", "ثبت شد: هیچ‌یک از گزینه‌ها."),
    "review_no_candidates": ("No gazetteer candidates.", "گزینه‌ای در فهرست جغرافیایی نیست."),
    "review_or_place": ("or an existing place (#id)", "یا مکانی موجود (شناسه)"),
    # --- admins: users and their login sessions
    "users": ("Users", "کاربران"),
    "users_title": ("Users and sessions", "کاربران و نشست‌ها"),
    "users_note": (
        "Every user with their live sessions. An ended session is logged out at its very next request.",
        "همه کاربران با نشست‌های فعالشان. نشستی که پایان یابد، در همان درخواست بعدی‌اش از سامانه خارج می‌شود.",
    ),
    "user_active": ("active", "فعال"),
    "user_disabled": ("disabled", "غیرفعال"),
    "created": ("Created", "ایجاد"),
    "disabled_on": ("Disabled on", "غیرفعال از"),
    "last_login": ("Last login", "آخرین ورود"),
    "last_seen": ("Last seen", "آخرین فعالیت"),
    "live_sessions": ("Live sessions", "نشست‌های فعال"),
    "session": ("Session", "نشست"),
    "session_started": ("Started", "آغاز"),
    "session_client": ("Client address", "نشانی دستگاه"),
    "session_expires": ("Expires", "انقضا"),
    "this_session": ("your session", "نشست شما"),
    "never": ("never", "هرگز"),
    "no_live_sessions": ("No live sessions.", "نشست فعالی ندارد."),
    "end_session": ("End session", "پایان نشست"),
    "end_all_sessions": ("End all sessions", "پایان همه نشست‌ها"),
    "disable_user": ("Disable user", "غیرفعال کردن کاربر"),
    "enable_hint": (
        "A disabled user is enabled again with a new password:",
        "کاربر غیرفعال با گذرواژه تازه دوباره فعال می‌شود:",
    ),
    "flash_session_ended": (
        "Session ended: that browser is logged out.",
        "نشست پایان یافت: آن مرورگر از سامانه خارج شد.",
    ),
    "flash_sessions_ended": ("Sessions ended:", "نشست‌های پایان‌یافته:"),
    "flash_user_disabled": (
        "User disabled: no more logins, and every session of theirs ended.",
        "کاربر غیرفعال شد: دیگر نمی‌تواند وارد شود و همه نشست‌هایش پایان یافت.",
    ),
    "flash_session_gone": ("That session had already ended.", "آن نشست پیش‌تر پایان یافته بود."),
    "flash_not_self": (
        "You cannot disable your own account; ask another admin.",
        "نمی‌توانید حساب خودتان را غیرفعال کنید؛ از مدیر دیگری بخواهید.",
    ),
    "flash_you_ended": ("Your session was ended; log in again.", "نشست شما پایان یافت؛ دوباره وارد شوید."),
    # --- rankings with their meaning, and the glossary of metrics
    "ranked_by": ("Ranked by", "رتبه‌بندی بر پایه"),
    "indicators": ("Indicators", "نماگرها"),
    "all_countries": ("All countries", "همه کشورها"),
    "min_coverage": ("Minimum coverage", "کمینه پوشش"),
    "any_coverage": ("Any coverage", "هر میزان پوشش"),
    "find_my_city": ("Find my city", "یافتن شهر من"),
    "find_placeholder": ("City name", "نام شهر"),
    "show": ("Show", "نمایش"),
    "find_not_found": (
        "No place named “{name}” in this ranking (with these filters).",
        "مکانی به نام «{name}» در این رتبه‌بندی (با این پالایه‌ها) نیست.",
    ),
    "ranking_empty": ("No place matches these filters.", "هیچ مکانی با این پالایه‌ها جور نیست."),
    "rank_intervals": ("Rank intervals", "بازه‌های رتبه"),
    "rank_intervals_note": (
        "Each dot is a place's rank; its bar, the ranks it takes in 90 % of the uncertainty samples (5–95 %).",
        "هر نقطه رتبه یک مکان است و نوار آن، رتبه‌هایی که در ۹۰ درصد نمونه‌های عدم قطعیت می‌گیرد (۵ تا ۹۵ درصد).",
    ),
    "glossary": ("Glossary", "واژه‌نامه"),
    "glossary_intro": (
        "What every number on these pages measures, and in which unit. Names of metrics on other pages link here.",
        "هر عدد در این صفحه‌ها چه چیزی را و با چه یکایی می‌سنجد. نام سنجه‌ها در صفحه‌های دیگر به اینجا پیوند دارد.",
    ),
    "meaning": ("Meaning", "معنا"),
    "unit": ("Unit", "یکا"),
    "per_kind_note": (
        "Partners and tie strength are also counted per kind of tie:",
        "تعداد شریکان و قوت پیوند برای هر نوع پیوند نیز جداگانه شمرده می‌شود:",
    ),
    "field_country": ("Country", "کشور"),
    "field_min_coverage": ("Minimum coverage", "کمینه پوشش"),
    "field_code": ("Ranked by", "رتبه‌بندی بر پایه"),
    "field_find": ("City name", "نام شهر"),
    "field_highlight": ("Highlighted place", "مکان برجسته"),
    # Error pages: a heading and a default explanation per status; the details they can name.
    "error_title_400": ("Bad request", "درخواست نادرست"),
    "error_title_401": ("Log in first", "ابتدا وارد شوید"),
    "error_title_403": ("Not allowed", "اجازه ندارید"),
    "error_title_404": ("Page not found", "صفحه پیدا نشد"),
    "error_title_405": ("Not possible at this address", "در این نشانی ممکن نیست"),
    "error_title_409": ("Conflict", "تعارض"),
    "error_title_413": ("Too large", "بیش از اندازه بزرگ"),
    "error_title_422": ("Not valid", "نامعتبر"),
    "error_title_429": ("Too many requests", "درخواست‌های بیش از حد"),
    "error_title_500": ("Something went wrong", "مشکلی پیش آمد"),
    "error_title_503": ("Unavailable", "در دسترس نیست"),
    "error_400": ("The request could not be understood.", "درخواست قابل فهم نبود."),
    "error_401": ("Log in to see this page.", "برای دیدن این صفحه وارد شوید."),
    "error_404": ("There is no page or record at this address.", "در این نشانی صفحه یا رکوردی نیست."),
    "unknown_language": (
        "This site has no pages in that language: it speaks English and Persian (the links above).",
        "این پایگاه به آن زبان صفحه‌ای ندارد: به انگلیسی و فارسی است (پیوندهای بالا).",
    ),
    "error_405": (
        "This address does not accept this kind of request.",
        "این نشانی این نوع درخواست را نمی‌پذیرد.",
    ),
    "error_409": (
        "This conflicts with a record that already exists; nothing was written.",
        "این با رکوردی که از پیش هست تعارض دارد؛ چیزی نوشته نشد.",
    ),
    "error_413": (
        "What was sent is larger than the server accepts; nothing was written.",
        "آنچه فرستاده شد بزرگ‌تر از حدی است که سرور می‌پذیرد؛ چیزی نوشته نشد.",
    ),
    "error_422": ("Some values of the request are not valid:", "برخی از مقادیر درخواست معتبر نیستند:"),
    "error_500": (
        "Something went wrong on the server. Try again; if it happens again, tell the administrator.",
        "در سرور مشکلی پیش آمد. دوباره تلاش کنید؛ اگر باز هم پیش آمد، به مدیر سامانه خبر دهید.",
    ),
    "error_503": (
        "The service is unavailable right now; nothing was written. Try again shortly.",
        "این سرویس اکنون در دسترس نیست؛ چیزی نوشته نشد. کمی بعد دوباره تلاش کنید.",
    ),
    "error_no_record": ("There is no {what} number {number}.", "{what} شماره {number} وجود ندارد."),
    "error_needs_role": (
        "This needs the {role} role; you are {current}.",
        "این کار نقش {role} را لازم دارد؛ نقش شما {current} است.",
    ),
    "error_form_expired": (
        "The form expired or was not sent from this site; reload it and send it again.",
        "فرم منقضی شده یا از این سایت فرستاده نشده است؛ صفحه را دوباره بارگذاری کنید و دوباره بفرستید.",
    ),
    "error_status": ("Error {status}", "خطای {status}"),
    "go_home": ("Go to the home page", "رفتن به صفحه اصلی"),
    "go_back": ("Go back", "بازگشت"),
    "a_value": ("A value", "یکی از مقادیر"),
    "user": ("User", "کاربر"),
    "mention": ("Place mention", "اشاره به مکان"),
    "field_offset": ("List position", "جای شروع فهرست"),
    "field_q": ("Search text", "متن جستجو"),
    "field_body": ("The request body", "بدنه درخواست"),
    "field_run_id": ("Run", "اجرا"),
    "field_entity_id": ("Record number", "شماره رکورد"),
    "field_organisation_id": ("Organisation", "سازمان"),
    "field_csrf_token": ("The form's security token", "نشانه امنیتی فرم"),
    "invalid_number": ("is not a whole number", "عدد صحیح نیست"),
    "invalid_too_small": ("is below the smallest value allowed", "کمتر از کوچک‌ترین مقدار مجاز است"),
    "invalid_too_large": ("is above the largest value allowed", "بیشتر از بزرگ‌ترین مقدار مجاز است"),
    "invalid_missing": ("is required", "لازم است و داده نشده است"),
    "invalid_too_long": ("is too long", "بیش از اندازه بلند است"),
    "invalid_too_short": ("is too short", "بیش از اندازه کوتاه است"),
    "invalid_characters": ("contains characters that are not allowed", "نویسه‌های نامجاز دارد"),
    "invalid_choice": ("is not one of the allowed choices", "از گزینه‌های مجاز نیست"),
    "invalid_unreadable": ("cannot be read", "خواندنی نیست"),
    "invalid_value": ("is not valid", "معتبر نیست"),
    # --- agreements: the office's record of cooperation
    "agreement": ("Agreement", "توافق‌نامه"),
    "agreements": ("Agreements", "توافق‌نامه‌ها"),
    "agreements_of": ("All agreements of", "همه توافق‌نامه‌های"),
    "parties": ("Parties", "طرفین"),
    "partner_place_id": ("Partner city", "شهر طرف توافق"),
    "partner_organisation_id": ("Partner organisation", "سازمان طرف توافق"),
    "valid_until": ("Valid until / renewal due", "اعتبار تا / موعد تمدید"),
    "responsible_unit": ("Responsible unit", "واحد مسئول"),
    "functions": ("Functions", "کارکردها"),
    "status_reason": ("Why this status", "دلیل این وضعیت"),
    "entered": ("Entered", "ثبت"),
    "status_history": ("Status history", "تاریخچه وضعیت"),
    "agreement_health": ("Health", "وضعیت اجرا"),
    "last_activity": ("Last activity", "آخرین فعالیت"),
    "no_activity": ("No activity recorded", "فعالیتی ثبت نشده"),
    "cost_to_date": ("Cost to date", "هزینه تاکنون"),
    "per_year": ("Activities and outcomes per year", "فعالیت‌ها و نتایج در هر سال"),
    "outcomes": ("Outcomes", "نتایج"),
    "quantity": ("Quantity", "مقدار"),
    "evidence": ("Evidence", "شواهد"),
    "follow_up": ("Follow-up actions", "اقدامات پیگیری"),
    "owner": ("Owner", "مسئول"),
    "due_on": ("Due", "مهلت"),
    "state": ("State", "وضعیت"),
    "cost": ("Cost", "هزینه"),
    "funding_source": ("Funding", "منبع مالی"),
    "flags": ("Needs attention", "نیازمند توجه"),
    "attention": ("Agreements needing attention", "توافق‌های نیازمند توجه"),
    "attention_none": ("No agreement needs attention.", "هیچ توافقی نیازمند توجه نیست."),
    "flag_dormant": ("dormant", "راکد"),
    "flag_renewal_due": ("renewal due", "نیازمند تمدید"),
    "flag_expired": ("expired", "منقضی"),
    "flag_actions_overdue": ("actions overdue", "اقدامات معوق"),
    "overdue_actions": ("Overdue follow-up actions", "اقدامات پیگیری معوق"),
    "state_open": ("open", "باز"),
    "state_done": ("done", "انجام‌شده"),
    "state_cancelled": ("cancelled", "لغوشده"),
    "effective_on": ("Took effect on", "تاریخ اثر"),
    "reason": ("Reason", "دلیل"),
    "first_recorded": ("as first recorded", "وضعیت هنگام نخستین ثبت"),
    "change_status": ("Change the status", "تغییر وضعیت"),
    "new_status": ("New status", "وضعیت تازه"),
    "no_next_status": ("No status change is possible from here.", "از این وضعیت تغییری ممکن نیست."),
    "open": ("open", "مشاهده"),
    "check_fields": ("Check these fields:", "این فیلدها را بررسی کنید:"),
    "stale_kept": (
        "Someone else changed this agreement while you were editing it; nothing of yours was saved. It is shown "
        "as it is now, with your input kept below: check it and save again.",
        "شخص دیگری هم‌زمان این توافق‌نامه را تغییر داد و چیزی از تغییر شما ذخیره نشد. توافق‌نامه به شکل کنونی "
        "نمایش داده شده و آنچه وارد کرده بودید در فرم پایین حفظ شده است: بررسی کنید و دوباره ذخیره کنید.",
    ),
    # --- forms a person can use (issue 10): pickers, calendars, problems, deletion and restore, conflicts
    "relation_id": ("Agreement", "توافق‌نامه"),
    "activity_id": ("Activity", "فعالیت"),
    "membership_id": ("Membership", "عضویت"),
    "cost_amount": ("Cost", "هزینه"),
    "cost_currency": ("Currency of the cost", "واحد پول هزینه"),
    "outcome": ("Outcome", "نتیجه"),
    "follow_up_action": ("Follow-up action", "اقدام پیگیری"),
    "record_summary": ("Record", "رکورد"),
    "pick_places_placeholder": ("Type a city's name, in any script", "نام شهر را به هر خطی بنویسید"),
    "pick_organisations_placeholder": ("Name or acronym of the organisation", "نام یا سرواژه سازمان"),
    "pick_agreements_placeholder": ("Title of the agreement or a partner's name", "عنوان توافق‌نامه یا نام طرف آن"),
    "pick_activities_placeholder": ("Title of the activity", "عنوان فعالیت"),
    "pick_memberships_placeholder": ("City or organisation of the membership", "شهر یا سازمانِ عضویت"),
    "pick_people_placeholder": ("Name or title of the person, in either script", "نام یا سمت شخص، به هر خط"),
    "person_id": ("Person", "شخص"),
    "signatory": ("Signatory", "امضاکننده"),
    "participant": ("Participant", "شرکت‌کننده"),
    "document": ("Document", "سند"),
    "documents_upload_there": (
        "A document is added by uploading its file on its agreement's page; here its kind and title are edited.",
        "سند با بارگذاری پرونده‌اش در صفحه توافق‌نامه افزوده می‌شود؛ اینجا نوع و عنوان آن ویرایش می‌شود.",
    ),
    "pick_ambiguous_record": (
        "several records match “{name}”: pick one below",
        "چند رکورد با «{name}» جور است: یکی را از فهرست زیر برگزینید",
    ),
    "pick_not_found_record": (
        "nothing called “{name}” found; type part of its title or a partner's name",
        "چیزی به نام «{name}» یافت نشد؛ بخشی از عنوان یا نام طرف آن را بنویسید",
    ),
    "pick_one": ("Several match: pick one", "چند مورد هم‌نام است: یکی را برگزینید"),
    "pick_ambiguous": (
        "several places or organisations are called “{name}”: pick one below",
        "چند مکان یا سازمان «{name}» نام دارند: یکی را از فهرست زیر برگزینید",
    ),
    "pick_not_found": (
        "no city called “{name}” in the registry or the gazetteer; check the spelling",
        "شهری به نام «{name}» در ثبت یا فهرست جغرافیایی نیست؛ املای آن را بررسی کنید",
    ),
    "pick_not_found_org": (
        "no organisation called “{name}” in the registry; check the name or add it first",
        "سازمانی به نام «{name}» در ثبت نیست؛ نام را بررسی کنید یا نخست آن را بیفزایید",
    ),
    "pick_unknown": (
        "the chosen place is not in the gazetteer; pick it again",
        "مکان برگزیده در فهرست جغرافیایی نیست؛ دوباره برگزینید",
    ),
    "date_hint": ("Gregorian date, YYYY-MM-DD", "تاریخ میلادی، YYYY-MM-DD"),
    "date_hint_fa": ("Solar Hijri date, YYYY/MM/DD", "تاریخ خورشیدی، سال/ماه/روز (مثلاً ۱۴۰۳/۰۲/۱۵)"),
    "date_unreadable": (
        "“{typed}” is not a date; type it as YYYY-MM-DD (e.g. 2024-05-04)",
        "«{typed}» تاریخ نیست؛ آن را به شکل YYYY-MM-DD بنویسید",
    ),
    "date_unreadable_fa": (
        "“{typed}” is not a Solar Hijri date; type it as YYYY/MM/DD (e.g. 1403/02/15)",
        "«{typed}» تاریخ خورشیدی نیست؛ آن را به شکل سال/ماه/روز بنویسید (مثلاً ۱۴۰۳/۰۲/۱۵)",
    ),
    "date_not_in_calendar": ("“{typed}” is no day of the Gregorian calendar", "«{typed}» روزی از تقویم میلادی نیست"),
    "date_not_in_calendar_fa": (
        "“{typed}” is no day of the Solar Hijri calendar",
        "«{typed}» روزی از تقویم خورشیدی نیست",
    ),
    "date_looks_gregorian": (
        "you typed “{typed}”: dates on this form are Solar Hijri, and year {year} looks Gregorian. If you meant "
        "the Gregorian date, type {meant}.",
        "«{typed}» را نوشتید: تاریخ‌های این فرم خورشیدی است و سال {year} میلادی به نظر می‌رسد. اگر تاریخ میلادی "
        "را در نظر داشتید، {meant} را بنویسید.",
    ),
    "date_looks_solar_hijri": (
        "you typed “{typed}”: dates on this form are Gregorian, and year {year} looks Solar Hijri. If you meant "
        "the Solar Hijri date, type {meant}.",
        "«{typed}» را نوشتید: تاریخ‌های این فرم میلادی است و سال {year} خورشیدی به نظر می‌رسد. اگر تاریخ خورشیدی "
        "را در نظر داشتید، {meant} را بنویسید.",
    ),
    "year_looks_solar_hijri": (
        "you typed {typed}, which looks like a Solar Hijri year; years here are Gregorian ({typed} SH is {meant})",
        "{typed} را نوشتید که سال خورشیدی به نظر می‌رسد؛ سال‌ها در اینجا میلادی است ({typed} خورشیدی برابر {meant} است)",
    ),
    "invalid_reference": ("names no record of the registry", "به رکوردی در ثبت اشاره نمی‌کند"),
    "invalid_together": ("do not go together; check them", "با هم سازگار نیستند؛ آن‌ها را بررسی کنید"),
    "check_fields_below": (
        "Some fields need correcting: see below.",
        "برخی فیلدها نیاز به اصلاح دارند: پایین را ببینید.",
    ),
    "conflict_heading": ("Your version and the stored one", "نسخه شما و نسخه ذخیره‌شده"),
    "conflict_explain": (
        "Fields that differ are marked. The form below holds your input on top of the stored version: save it to "
        "apply yours, or take the stored version and start again.",
        "فیلدهایی که فرق دارند نشانه‌گذاری شده‌اند. فرم پایین آنچه شما وارد کردید را روی نسخه ذخیره‌شده نگه داشته "
        "است: برای اعمال نسخه خود آن را ذخیره کنید، یا نسخه ذخیره‌شده را بگیرید و از نو آغاز کنید.",
    ),
    "field": ("Field", "فیلد"),
    "your_version": ("Yours (not saved)", "نسخه شما (ذخیره نشده)"),
    "stored_version": ("Stored now", "ذخیره‌شده کنونی"),
    "take_stored": ("Discard mine and edit the stored version", "کنار گذاشتن نسخه من و ویرایش نسخه ذخیره‌شده"),
    "save_mine": ("Save my version over the stored one", "ذخیره نسخه من روی نسخه ذخیره‌شده"),
    "delete_record": ("Delete", "حذف"),
    "all_records": ("All records of this kind", "همه رکوردهای این نوع"),
    "deleted_note": (
        "Deleted. The audit trail keeps a copy an administrator can restore.",
        "حذف شد. سابقه تغییرات نسخه‌ای نگه می‌دارد که مدیر می‌تواند بازگرداند.",
    ),
    "delete_explain": (
        "This deletes the record and what belongs to it (an agreement's status history, outcomes and follow-up "
        "actions; an activity's outcomes). The audit trail keeps a copy: an administrator can restore it.",
        "این کار رکورد و آنچه به آن وابسته است را حذف می‌کند (تاریخچه وضعیت، نتایج و اقدامات پیگیری یک توافق‌نامه؛ "
        "نتایج یک فعالیت). سابقه تغییرات نسخه‌ای نگه می‌دارد و مدیر می‌تواند آن را بازگرداند.",
    ),
    "delete_confirm": ("Yes, delete it", "بله، حذف شود"),
    "cancel": ("Cancel", "انصراف"),
    "delete_needs_admin": (
        "Only an administrator deletes places and organisations.",
        "تنها مدیر می‌تواند مکان‌ها و سازمان‌ها را حذف کند.",
    ),
    "delete_refused": (
        "Not deleted: other records still refer to it ({what}). Delete or change those first.",
        "حذف نشد: رکوردهای دیگری هنوز به آن اشاره می‌کنند ({what}). نخست آن‌ها را حذف یا اصلاح کنید.",
    ),
    "delete_stale": (
        "Not deleted: someone changed the record meanwhile. Check it and try again.",
        "حذف نشد: شخص دیگری در این میان رکورد را تغییر داد. آن را بررسی کنید و دوباره بکوشید.",
    ),
    "record_exists": (
        "Not saved: the registry already has such a record (the same parties and kind, or the same key). Your input "
        "is kept below.",
        "ذخیره نشد: چنین رکوردی (با همین طرفین و نوع، یا همین کلید) در ثبت هست. آنچه وارد کردید در فرم پایین حفظ "
        "شده است.",
    ),
    "restore_deleted": ("Restore", "بازگرداندن"),
    "deleted_rows": ("Deleted rows (kept for restoring)", "ردیف‌های حذف‌شده (نگه‌داشته برای بازگرداندن)"),
    # --- dashboard overview, network explorer, ranking filters, citations (issue 13, dash) ---
    "ties": ("ties", "پیوند"),
    "home_map": ("The registry on the map", "ثبت روی نقشه"),
    "home_map_note": (
        "Points: places, sized by their ties and memberships. Lines: {shown} of {total} ties between located "
        "places, those between the most connected places (the most ties at both ends); click a point to open "
        "its profile.",
        "نقطه‌ها: مکان‌ها، به اندازه پیوندها و عضویت‌هایشان. خط‌ها: {shown} از {total} پیوند میان "
        "مکان‌های دارای مختصات، آن‌هایی که میان پرپیوندترین مکان‌ها هستند (بیشترین پیوند در دو سر)؛ "
        "با کلیک روی یک نقطه صفحه آن باز می‌شود.",
    ),
    "points_note": (
        "The {shown} most connected of {total} located places are drawn.",
        "{shown} مکان پرپیوندتر از {total} مکان دارای مختصات نمایش داده شده‌اند.",
    ),
    "countries": ("Countries", "کشورها"),
    "latest_assessment": ("Latest assessment", "آخرین ارزیابی"),
    "no_assessment_yet": ("No assessment has been run yet.", "هنوز ارزیابی‌ای اجرا نشده است."),
    "top_connected": ("Most connected places", "پرپیوندترین مکان‌ها"),
    "city_network": ("Network of {name}", "شبکه {name}"),
    "open_network": ("Partners as a network", "شرکا به صورت شبکه"),
    "ego_view": ("Partners", "شرکا"),
    "community_view": ("Community", "اجتماع"),
    "show_partner_ties": ("Show the partners' ties among themselves", "نمایش پیوندهای شرکا با یکدیگر"),
    "among_partners": ("among partners", "میان شرکا"),
    "ego_note": (
        "The city in the middle, its {shown} partners around it grouped by kind of relation; click a point to "
        "open its profile.",
        "شهر در میانه و {shown} شریک آن در پیرامون، به ترتیب نوع رابطه؛ با کلیک روی یک نقطه صفحه آن باز می‌شود.",
    ),
    "ego_truncated": (
        "It has {total} partners: the {shown} with the most ties are drawn.",
        "این شهر {total} شریک دارد: {shown} شریک پرپیوندتر نمایش داده شده‌اند.",
    ),
    "community_note": (
        "Community {label} of the network run: {total} places more tied among themselves than with the rest "
        "(Leiden communities); {shown} are drawn, the most connected first.",
        "اجتماع {label} در اجرای شبکه: {total} مکان که با یکدیگر بیش از بقیه پیوند دارند (اجتماع‌های لایدن)؛ "
        "{shown} مکان پرپیوندتر نمایش داده شده‌اند.",
    ),
    "no_community": (
        "No network run gives this place a community yet.",
        "هنوز هیچ اجرای شبکه‌ای اجتماعی برای این مکان تعیین نکرده است.",
    ),
    "no_partners": ("This place has no relations in the registry.", "این مکان در ثبت رابطه‌ای ندارد."),
    "world_region": ("World region", "منطقه جهان"),
    "all_regions": ("All regions", "همه مناطق"),
    "size_band": ("Population", "جمعیت"),
    "any_size": ("Any size", "هر اندازه"),
    "pop_lt_100k": ("under 100,000", "کمتر از ۱۰۰ هزار"),
    "pop_100k_500k": ("100,000 – 500,000", "۱۰۰ تا ۵۰۰ هزار"),
    "pop_500k_1m": ("500,000 – 1 million", "۵۰۰ هزار تا ۱ میلیون"),
    "pop_1m_5m": ("1 – 5 million", "۱ تا ۵ میلیون"),
    "pop_gt_5m": ("over 5 million", "بیش از ۵ میلیون"),
    "continent_AF": ("Africa", "آفریقا"),
    "continent_AN": ("Antarctica", "جنوبگان"),
    "continent_AS": ("Asia", "آسیا"),
    "continent_EU": ("Europe", "اروپا"),
    "continent_NA": ("North America", "آمریکای شمالی"),
    "continent_OC": ("Oceania", "اقیانوسیه"),
    "continent_SA": ("South America", "آمریکای جنوبی"),
    "source_record": ("Source", "منبع"),
    "source_kind": ("Kind of source", "نوع منبع"),
    "citation": ("Citation", "استناد"),
    "address": ("Address", "نشانی"),
    "entered_by": ("Entered by", "واردکننده"),
    "source_kind_paper": ("research paper", "مقاله پژوهشی"),
    "source_kind_file": ("data file", "پرونده داده"),
    "source_kind_wikidata": ("Wikidata query", "پرس‌وجوی ویکی‌داده"),
    "source_kind_manual": ("entered in the dashboard", "واردشده در داشبورد"),
    "source_kind_model": ("the model's data", "داده‌های مدل"),
    "file_name": ("File", "پرونده"),
    "records_citing": ("Records citing it", "رکوردهای مستند به آن"),
    "retrieved": ("Retrieved", "دریافت"),
    "entered_in_dashboard": ("entered in the dashboard", "واردشده در داشبورد"),
    "paper_no": ("paper {n}", "مقاله {n}"),
    "table_row": ("Table {table}, row {row}", "جدول {table}، ردیف {row}"),
    "row_n": ("row {row}", "ردیف {row}"),
    "table_n": ("Table {table}", "جدول {table}"),
    "section_n": ("§{n}", "بخش {n}"),
    "sheet_row": ("sheet {sheet}, row {row}", "برگه {sheet}، ردیف {row}"),
    "stale_form": (
        "Someone else saved this record while you were editing it; nothing of yours was saved. Your input is kept "
        "below, the record's current version is loaded: check and save again.",
        "شخص دیگری هم‌زمان این رکورد را ذخیره کرد و چیزی از تغییر شما ذخیره نشد. آنچه وارد کرده بودید در فرم حفظ "
        "شده و نسخه کنونی رکورد بارگذاری شده است: بررسی کنید و دوباره ذخیره کنید.",
    ),
    # --- the council report: a city's year of cooperation, compared with the year before (report/council.py)
    "council_report": ("Council report", "گزارش شورا"),
    "council_subtitle": (
        "The international cooperation office's record of the year, for the city council",
        "کارنامه سالانه دفتر همکاری‌های بین‌المللی، برای شورای شهر",
    ),
    "council_period": ("Period", "دوره"),
    "council_compared": ("Compared with", "در مقایسه با"),
    "council_to_date": ("The year is not over: figures to {date}.", "سال هنوز تمام نشده است: ارقام تا {date}."),
    "council_nothing": (
        "Nothing recorded for {year}: no agreement signed, renewed or ended, no activity, outcome, dues or "
        "overdue follow-up action.",
        "برای {year} چیزی ثبت نشده است: نه توافق‌نامه‌ای امضا، تمدید یا پایان یافته و نه فعالیت، نتیجه، "
        "حق عضویت یا اقدام پیگیری معوقی.",
    ),
    "council_nothing_section": ("Nothing recorded in {year}.", "در {year} چیزی ثبت نشده است."),
    "council_summary": ("The year in figures", "سال در یک نگاه"),
    "council_this_year": ("This year", "امسال"),
    "council_year_before": ("The year before", "سال پیش"),
    "council_change": ("Change", "تغییر"),
    "council_signed": ("Agreements signed", "توافق‌نامه‌های امضاشده"),
    "council_renewed": ("Agreements renewed", "توافق‌نامه‌های تمدیدشده"),
    "council_ended": ("Agreements ended", "توافق‌نامه‌های پایان‌یافته"),
    "council_dormant": ("Dormant agreements at the year's end", "توافق‌نامه‌های راکد در پایان سال"),
    "council_activities": ("Activities", "فعالیت‌ها"),
    "council_delegations": ("Delegations and visits", "هیئت‌ها و بازدیدها"),
    "council_outcomes": ("Outcomes recorded", "نتایج ثبت‌شده"),
    "council_overdue": ("Overdue follow-up actions at the year's end", "اقدامات پیگیری معوق در پایان سال"),
    "council_money": ("Spending and membership dues", "هزینه‌ها و حق عضویت‌ها"),
    "council_spending": ("Spending on activities", "هزینه فعالیت‌ها"),
    "council_dues": ("Membership dues", "حق عضویت‌ها"),
    "council_money_note": (
        "Per currency, as recorded: amounts in different currencies are never added up.",
        "به تفکیک ارز، همان‌گونه که ثبت شده است: مبالغ ارزهای مختلف هرگز با هم جمع نمی‌شوند.",
    ),
    "council_currency": ("Currency", "ارز"),
    "council_amount": ("Amount", "مبلغ"),
    "council_costed": ("Activities with a cost", "فعالیت‌های دارای هزینه"),
    "council_dues_year": ("Dues year", "سال حق عضویت"),
    "council_by_kind": ("By kind", "بر پایه نوع"),
    "council_by_dimension": ("By dimension of the model", "بر پایه ابعاد مدل"),
    "council_by_function": ("By function of the model", "بر پایه کارکردهای مدل"),
    "council_multi_note": (
        "An activity counts once under each of its dimensions and functions.",
        "هر فعالیت زیر هر یک از ابعاد و کارکردهایش یک بار شمرده می‌شود.",
    ),
    "council_not_given": ("not recorded", "ثبت نشده"),
    "council_year_only": (
        "{n} dated only to the year (counted as of 31 December)",
        "{n} مورد تنها با سال ثبت شده است (۳۱ دسامبر آن سال حساب شده)",
    ),
    "council_year_only_short": ("year only", "فقط سال"),
    "council_direction": ("Direction", "جهت"),
    "council_direction_incoming": ("incoming", "ورودی"),
    "council_direction_outgoing": ("outgoing", "خروجی"),
    "council_direction_unknown": ("direction not recorded", "جهت ثبت نشده"),
    "council_with": ("With", "با"),
    "council_date": ("Date", "تاریخ"),
    "council_how": ("How", "چگونه"),
    "council_how_revived": ("back in force (was {status})", "بازگشت به اجرا (پیش‌تر: {status})"),
    "council_how_extended": ("validity extended to {date}", "اعتبار تا {date} تمدید شد"),
    "council_dormant_note": (
        "In force at the year's end with no activity recorded for more than {days} days (or none at all): the "
        "agreement health's dormant flag as of {date}.",
        "در پایان سال در اجرا، بی هیچ فعالیت ثبت‌شده در بیش از {days} روز (یا هرگز): نشان «راکد» وضعیت اجرای "
        "توافق‌نامه در تاریخ {date}.",
    ),
    "council_days_late": ("Days late", "روز تأخیر"),
    "council_unit": ("Unit", "واحد"),
    "council_records": ("Records", "تعداد"),
    "council_method": ("How the figures are counted", "روش شمارش"),
    "council_method_text": (
        "Agreements signed and ended count by their dates (an agreement known only by its year counts as of "
        "31 December of that year); renewed: validity extended by an edit in the year, or back in force after a "
        "dormant or suspended spell. Activities are the city's own and those serving its agreements and "
        "memberships; outcomes are dated by their own date or their activity's; dues by their (Gregorian) year.",
        "توافق‌نامه‌های امضاشده و پایان‌یافته بر پایه تاریخشان شمرده می‌شوند (توافقی که تنها سالش معلوم است، در "
        "۳۱ دسامبر آن سال)؛ تمدیدشده: اعتباری که با ویرایشی در همان سال تمدید شده، یا بازگشت به اجرا پس از دوره "
        "رکود یا تعلیق. فعالیت‌ها، فعالیت‌های خود شهر و فعالیت‌های در خدمت توافق‌نامه‌ها و عضویت‌های آن‌اند؛ "
        "نتایج با تاریخ خود یا تاریخ فعالیتشان و حق عضویت‌ها با سال (میلادی) خود شمرده می‌شوند.",
    ),
    "council_bad_year": (
        "Year {year} is out of range: give a Gregorian year from {g_low} to {g_high} or a Solar Hijri year from "
        "{sh_low} to {sh_high}.",
        "سال {year} خارج از محدوده است: سالی میلادی از {g_low} تا {g_high} یا سالی هجری شمسی از {sh_low} تا "
        "{sh_high} بدهید.",
    ),
    "council_bad_calendar": (
        "Unknown calendar {calendar}: one of auto, gregorian, solar_hijri.",
        "تقویم ناشناخته {calendar}: یکی از auto، gregorian یا solar_hijri.",
    ),
    "council_unknown_city": ("No city called {city} in the registry.", "شهری به نام «{city}» در پایگاه داده نیست."),
    "council_ambiguous_city": (
        "Several places are called {city}: give the country too.",
        "چند مکان «{city}» نام دارند: کشور را هم بدهید.",
    ),
    "council_year_field": ("Year (Gregorian or Solar Hijri)", "سال (هجری شمسی یا میلادی)"),
    "council_calendar": ("Calendar", "تقویم"),
    "council_calendar_auto": ("by the year given", "بر پایه سال داده‌شده"),
    "council_calendar_gregorian": ("Gregorian", "میلادی"),
    "council_calendar_solar_hijri": ("Solar Hijri", "هجری شمسی"),
    "council_show": ("Show", "نمایش"),
    "council_previous_link": ("Year before", "سال پیش"),
    "council_next_link": ("Year after", "سال بعد"),
    # the outcome catalogue's units (model/data/outcomes.yaml), as the council report shows them
    "council_unit_projects": ("projects", "پروژه"),
    "council_unit_amount": ("amount", "مبلغ"),
    "council_unit_people_trained": ("people trained", "نفر آموزش‌دیده"),
    "council_unit_events": ("events", "رویداد"),
    "council_unit_awards": ("awards", "جایزه"),
    "council_unit_policies": ("policies", "سیاست"),
    "council_unit_roles": ("roles", "نقش"),
    "council_unit_reports": ("reports", "گزارش"),
    # --- people, delegations and documents of the office's record (issue 10; helper "people")
    "person": ("Person", "شخص"),
    "people": ("People", "اشخاص"),
    "person:unit": ("Unit or department", "واحد سازمانی"),
    "person:title": ("Title or position", "سمت"),
    "person:title_fa": ("Title or position in Persian", "سمت به فارسی"),
    "person:name": ("Name", "نام"),
    "person:place_id": ("Works for the city", "شهر محل خدمت"),
    "person:organisation_id": ("Works for the organisation", "سازمان محل خدمت"),
    "contact": ("Contact", "راه تماس"),
    "add_person": ("Add a person", "افزودن شخص"),
    "signatories": ("Signatories", "امضاکنندگان"),
    "no_signatories": ("No signatory recorded.", "امضاکننده‌ای ثبت نشده است."),
    "add_signatory": ("Add a signatory", "افزودن امضاکننده"),
    "person_hint": ("Name in English or Persian, or #id", "نام به انگلیسی یا فارسی، یا شناسه با #"),
    "person_unknown": (
        "Person: nobody called “{name}” is in the registry; add the person first, then the signatory.",
        "شخص: کسی به نام «{name}» در پایگاه نیست؛ نخست شخص را بیفزایید، سپس امضاکننده را.",
    ),
    "delegations": ("Delegations and visits", "هیئت‌ها و بازدیدها"),
    "no_delegations": ("No delegation or visit recorded.", "هیچ هیئت یا بازدیدی ثبت نشده است."),
    "direction": ("Direction", "جهت"),
    "direction_incoming": ("incoming", "ورودی"),
    "direction_outgoing": ("outgoing", "خروجی"),
    "purpose": ("Purpose", "هدف"),
    "ends_on": ("Last day", "روز پایان"),
    "participants": ("Participants", "شرکت‌کنندگان"),
    "documents": ("Documents", "اسناد"),
    "activity_parties": ("Cities and organisations taking part", "شهرها و سازمان‌های شرکت‌کننده"),
    "activity_party": ("City or organisation taking part", "شهر یا سازمان شرکت‌کننده"),
    "dues": ("Membership dues", "حق عضویت‌ها"),
    "membership_due": ("Membership dues of a year", "حق عضویت یک سال"),
    "membership_due:year": ("Year (Gregorian)", "سال (میلادی)"),
    "membership_due:amount": ("Amount", "مبلغ"),
    "membership_due:currency": ("Currency (three-letter code, e.g. EUR)", "ارز (کد سه‌حرفی، مثلاً EUR)"),
    "no_documents": ("No document attached.", "سندی پیوست نشده است."),
    "document_kind_signed_text": ("Signed text", "متن امضاشده"),
    "document_kind_minutes": ("Minutes", "صورت‌جلسه"),
    "document_kind_other": ("Other", "سایر"),
    "media_type": ("Type", "نوع پرونده"),
    "size": ("Size", "اندازه"),
    "checksum": ("SHA-256 checksum", "چکیده SHA-256"),
    "download": ("Download", "دریافت"),
    "attach_document": ("Attach a document", "پیوست سند"),
    "upload": ("Attach", "پیوست"),
    "document_allowed": (
        "PDF, DOCX, ODT, PNG, JPEG or plain text, at most {mb} MB.",
        "PDF، DOCX، ODT، PNG، JPEG یا متن ساده، حداکثر {mb} مگابایت.",
    ),
    "media:application/pdf": ("PDF", "PDF"),
    "media:application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("DOCX (Word)", "DOCX (ورد)"),
    "media:application/vnd.oasis.opendocument.text": ("ODT (OpenDocument text)", "ODT (متن اُپن‌داکیومنت)"),
    "media:image/png": ("PNG image", "تصویر PNG"),
    "media:image/jpeg": ("JPEG image", "تصویر JPEG"),
    "media:text/plain": ("plain text", "متن ساده"),
    "document_missing": ("File: choose a file to attach.", "پرونده: پرونده‌ای برای پیوست برگزینید."),
    "document_no_name": ("File: the file has no name.", "پرونده: پرونده نام ندارد."),
    "document_empty": ("File: {name} is empty.", "پرونده: {name} خالی است."),
    "document_too_large": (
        "File: {name} is {size}, larger than the limit of {limit}; nothing was saved.",
        "پرونده: {name} {size} است، بزرگ‌تر از سقف {limit}؛ چیزی ذخیره نشد.",
    ),
    "document_bad_type": (
        "File: {name} is not one of the allowed types ({kinds}) by its content; nothing was saved.",
        "پرونده: محتوای {name} از انواع مجاز ({kinds}) نیست؛ چیزی ذخیره نشد.",
    ),
    "document_wrong_ending": (
        "File: {name} is a {kind} by its content, but its name does not end in {endings}; nothing was saved.",
        "پرونده: {name} بنا بر محتوایش {kind} است، ولی نامش به {endings} ختم نمی‌شود؛ چیزی ذخیره نشد.",
    ),
    "document_duplicate": (
        "File: the same file is already attached to this record (document {id}); nothing was saved.",
        "پرونده: همین پرونده پیش‌تر به این رکورد پیوست شده است (سند {id})؛ چیزی ذخیره نشد.",
    ),
}

#: vocabulary code (lower case) -> Persian
TERMS_FA: dict[str, str] = {
    # What a member count counts (member_count.what, as the case study and the importers write it).
    "members": "اعضا",
    "member cities": "شهرهای عضو",
    "member cities and capitals": "شهرها و پایتخت‌های عضو",
    "observer cities": "شهرهای ناظر",
    "honorary members": "اعضای افتخاری",
    "iranian member cities": "شهرهای عضو ایرانی",
    "member organisations": "سازمان‌های عضو",
    "member countries": "کشورهای عضو",
    "countries with offices": "کشورهای دارای دفتر",
    "countries with programmes": "کشورهای دارای برنامه",
    "technical programmes and projects": "برنامه‌ها و پروژه‌های فنی",
    # An organisation's scale.
    "global": "جهانی",
    "regional": "منطقه‌ای",
    "sister_city": "خواهرخواندگی",
    "mou": "تفاهم\u200cنامه",
    "cooperation_memorandum": "یادداشت همکاری",
    "friendship": "دوستی",
    "partnership": "همکاری شهرداری",
    "active": "فعال",
    "proposed": "پیشنهادشده",
    "in_negotiation": "در حال مذاکره",
    "signed": "امضاشده",
    "dormant": "راکد",
    "suspended": "معلق",
    "ended": "پایان\u200cیافته",
    "founding": "مؤسس",
    "board": "هیئت\u200cمدیره",
    "secretariat_host": "میزبان دبیرخانه",
    "associate": "وابسته",
    "observer": "ناظر",
    "honorary": "افتخاری",
    "former": "سابق",
    "insert": "افزودن",
    "update": "ویرایش",
    "delete": "حذف",
    "import": "ورود",
    "ambiguous": "مبهم",
    "reviewed": "بازبینی\u200cشده",
    "resolved": "حل\u200cشده",
    "unresolved": "حل\u200cنشده",
    "kept": "مکان تازه",
    "rejected": "هیچ‌کدام از گزینه‌ها",
    "confirmed": "تأییدشده",
    "gazetteer": "فهرست جغرافیایی",
    "manual": "دستی",
    "city": "شهر",
    "district": "منطقه",
    "subdivision": "تقسیم کشوری",
    "region": "ناحیه",
    "visit": "دیدار",
    "delegation": "هیئت اعزامی",
    "summit_hosted": "میزبانی اجلاس",
    "exhibition": "نمایشگاه",
    "festival": "جشنواره",
    "sports_event": "رویداد ورزشی",
    "project": "پروژه",
    "award": "جایزه",
    "declaration": "بیانیه و تفاهم",
    "aid": "کمک",
    "ranking": "رتبه\u200cبندی",
    "office": "دفتر یا نهاد",
    "security": "امنیت شهری",
    "economy": "اقتصاد شهری",
    "culture": "فرهنگ شهری",
    "networks": "شبکه\u200cسازی شهری",
    "representation": "نمایندگی شهری",
    "development": "توسعه شهری",
    "research": "پژوهش شهری",
    "un_agency": "نهاد سازمان ملل",
    "global_network": "شبکه جهانی شهرها",
    "regional_network": "شبکه منطقه\u200cای شهرها",
    "forum": "مجمع",
    "fund": "صندوق",
    "international_organisation": "سازمان بین\u200cالمللی",
    "public_authority": "نهاد عمومی (استان، منطقه، وزارتخانه)",
    "support_organisation": "سازمان پشتیبان",
    "other": "سایر",
    "degree": "درجه",
    "strength": "قدرت",
    "betweenness": "بینابینی",
    "closeness": "نزدیکی",
    "eigenvector": "مرکزیت بردار ویژه",
    "pagerank": "پیج\u200cرنک",
    "harmonic": "مرکزیت هارمونیک",
    "community": "اجتماع",
    "component": "مؤلفه",
    "coreness": "هسته",
    "clustering": "ضریب خوشه\u200cبندی",
    "rank": "رتبه",
    "weights": "وزن\u200cها",
    "normalise": "نرمال\u200cسازی",
    "aggregate": "تجمیع",
    "missing": "داده گمشده",
    "viewer": "بیننده",
    "editor": "ویرایشگر",
    "admin": "مدیر",
}

#: vocabulary code -> English, where the code itself reads badly (else its words with spaces)
TERMS_EN: dict[str, str] = {
    "mou": "MoU",
    "in_negotiation": "negotiating",
    "summit_hosted": "summit hosted",
    "office": "office or institution",
    "networks": "urban networks",
    "security": "urban security",
    "economy": "urban economy",
    "culture": "urban culture",
    "representation": "urban representation",
    "development": "urban development",
    "research": "urban research",
}


def pick_language(query_lang: str | None, cookie_lang: str | None) -> str:
    """The page language: ``?lang=`` first, then the cookie, else English (unknown codes are ignored)."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return DEFAULT_LANGUAGE


def translate(key: str, lang: str) -> str:
    """The message ``key`` in ``lang``; the key itself when there is no message (a typo shows, never fails)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "fa" else pair[0]


def gazetteer_label(gazetteer: str | None, lang: str) -> str:
    """The name of the gazetteer a place's identifier belongs to (``csc`` -> "countries-states-cities database")."""
    if not gazetteer:
        return ""
    key = f"gazetteer_{gazetteer}"
    return translate(key, lang) if key in MESSAGES else gazetteer


def term(value: str | None, lang: str) -> str:
    """A vocabulary code (``sister_city``, ``DIM_security``, ``pagerank``) as words in ``lang``."""
    if not value:
        return ""
    code = value.removeprefix("DIM_")
    key = code.lower()
    if lang == "fa" and key in TERMS_FA:
        return TERMS_FA[key]
    if lang != "fa" and key in TERMS_EN:
        return TERMS_EN[key]
    if "." in code:  # a code of the model's catalogues (a function such as mlf.knowledge_sharing)
        item = _model_item(code)
        if item is not None:
            return item.label(lang)
    return code.replace("_", " ")


@cache
def _model_item(code: str):  # type: ignore[no-untyped-def]
    from citydiplomacy.model import load_model

    model = load_model()
    return model.find(code) if code in model else None


@cache
def _iso3166_fa() -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fa"])
    except OSError:  # pycountry built without locales: fall back to English names
        return gettext.NullTranslations()


#: Persian names iso-codes lacks: its English name changed ("Türkiye", 2022) and the Persian catalogue kept the old
#: entry, so the lookup fell back to the Latin name.  The only such country (a test checks every one).
_FA_COUNTRY_NAMES = {"TR": "ترکیه"}


@cache
def country_name(code: str | None, lang: str) -> str:
    """The short name of an ISO 3166-1 alpha-2 country (``IR`` -> ``Iran`` / ``ایران``); the code if unknown."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    if lang == "fa":
        if code.upper() in _FA_COUNTRY_NAMES:
            return _FA_COUNTRY_NAMES[code.upper()]
        # iso-codes' Persian names follow the formal English ones ("ایران، جمهوری اسلامی"): keep the head.
        return _iso3166_fa().gettext(country.name).split("،")[0].strip()
    return getattr(country, "common_name", None) or country.name
