"""Work, study, money, devices and calculators: email, cloud files, to-dos, notes, leave requests, the car, garden
sensors, currency exchange, stocks, utility bills, courses, the library, the IT helpdesk, translation, unit
conversion, geometry, statistics and loan arithmetic.

The calculator domains (and a few lookups whose answer follows from the request: a translation, a converted
amount) compute their results from the call's own arguments: a `Computed` result reads them by argument name.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from edgefc.train.data.families.domain import (DATE, PEOPLE, Computed, Domain, Phrase, Pool, Step, Task, Value,
                                                boolean, choice, coded, const, dates, digits, integer, ints, number,
                                                register, same, string, tool, words)

# --- numbers as requests say them and as results report them ----------------------------------------------------


def _plain(n: float) -> str:
    """A number as a request types it: digits, a point for decimals, no grouping (copied exactly into the call)."""
    return str(n) if isinstance(n, int) else format(Decimal(repr(n)), "f")


def nums(*values: float) -> Pool:
    """Numbers a request says in digits, alike in both languages, sent as numbers."""
    return lambda rng: (lambda n: Value(_plain(n), _plain(n), arg=n))(rng.choice(values))


def _figure(n: float) -> Value:
    """A result number as each language writes it: 1,234.5 in English, 1.234,5 in Vietnamese."""
    n = int(n) if float(n).is_integer() else n
    sign, digits_ = ("-", _plain(-n)) if n < 0 else ("", _plain(n))
    whole, _, frac = digits_.partition(".")
    grouped = f"{int(whole):,}"
    en = sign + grouped + (f".{frac}" if frac else "")
    vi = sign + grouped.replace(",", ".") + (f",{frac}" if frac else "")
    return Value(en, vi, arg=n)


def figures(*values: float) -> Pool:
    """Result numbers, written the way each language writes numbers."""
    return lambda rng: _figure(rng.choice(values))


def _rounded(x: float, places: int = 2) -> float:
    """x to `places` decimals; below 1, to 4 significant digits (0.0001553, not 0.0)."""
    if x != 0 and abs(x) < 1:
        return float(f"{x:.4g}")
    return round(x, places)


def number_lists(low: float, high: float, decimals: int = 0, sizes: tuple[int, int] = (4, 7)) -> Pool:
    """A list of numbers (an array argument), said "72, 85, 90 and 64" / "72, 85, 90 và 64"."""
    def draw(rng: random.Random) -> Value:
        count = rng.randint(*sizes)
        values = [rng.randint(int(low), int(high)) if not decimals else round(rng.uniform(low, high), decimals)
                  for _ in range(count)]
        values = [int(v) if float(v).is_integer() else v for v in values]
        said = [_plain(v) for v in values]
        head = ", ".join(said[:-1])
        return Value(f"{head} and {said[-1]}", f"{head} và {said[-1]}", arg=values)
    return draw


DONE = const(True, "done", "xong")

# --- email ----------------------------------------------------------------------------------------------------------

ADDRESSES = same("lan.nguyen@gmail.com", "minh.tran@fpt.com.vn", "sarah.k@outlook.com", "hoa.pham@vng.com.vn",
                 "david.lee@acme.com", "kenji.sato@example.jp", "quang.le@viettel.vn", "priya.s@gmail.com")
SUBJECTS = words(("Meeting notes", "Biên bản cuộc họp"), ("Invoice for March", "Hóa đơn tháng Ba"),
                 ("Weekend plans", "Kế hoạch cuối tuần"), ("Project update", "Cập nhật dự án"),
                 ("Quarterly report", "Báo cáo quý"), ("Team dinner", "Liên hoan nhóm"))
BODIES = words(("I'll be 10 minutes late to the meeting", "Tôi sẽ đến họp muộn 10 phút"),
               ("Please send me the slides before Friday", "Bạn gửi tôi bản trình chiếu trước thứ Sáu nhé"),
               ("Thanks for your help yesterday", "Cảm ơn bạn đã giúp đỡ hôm qua"),
               ("The report is ready for your review", "Báo cáo đã sẵn sàng để bạn xem"),
               ("Let's move our call to next week", "Mình dời cuộc gọi sang tuần sau nhé"))

EMAIL = Domain(
    name="email",
    tools=(
        tool("send_email", "Sends a new email from the user's mailbox to one address.",
             to=string("Recipient's email address."), subject=string("Subject line."), body=string("Message text.")),
        tool("search_emails", "Finds emails in the user's inbox from a sender, newest first: ids, subjects, counts.",
             ("sender",), sender=string("Sender's name or email address."),
             unread_only=boolean("True to return only unread emails."),
             limit=integer("How many emails to return.", minimum=1, maximum=20)),
        tool("reply_to_email", "Replies to one email in the user's inbox by its id.",
             email_id=string("The email's id, as search_emails returns it."), body=string("Reply text.")),
        tool("archive_email", "Moves one email out of the inbox into the archive, by its id.",
             email_id=string("The email's id, as search_emails returns it.")),
    ),
    slots={"address": ADDRESSES, "subject": SUBJECTS, "body": BODIES, "sender": PEOPLE, "count": ints(2, 6),
           "email": digits(6, "msg-"), "done": DONE},
    tasks=(
        Task(asks=(('Email {address} with the subject "{subject}" and the message "{body}".',
                    'Gửi email cho {address} với tiêu đề "{subject}" và nội dung "{body}".'),
                   ('Send an email to {address}: subject "{subject}", body "{body}".',
                    'Gửi thư tới {address}, tiêu đề "{subject}", nội dung: "{body}".'),
                   ('Could you write to {address}? Subject "{subject}", and say "{body}".',
                    'Bạn viết email cho {address} giúp tôi nhé, tiêu đề "{subject}", nội dung là "{body}".')),
             many=(('Send the email "{subject}" saying "{body}" to {items}.',
                    'Gửi cùng một email tới {items}, tiêu đề "{subject}", nội dung "{body}".'),),
             vary="address",
             steps=(Step("send_email", {"to": "address", "subject": "subject", "body": "body"},
                         {"message_id": "email", "to": "=to", "subject": "=subject"}),),
             tells=(('Your email "{subject}" is on its way to {to}.', 'Đã gửi email "{subject}" tới {to}.'),),
             facts=("to",)),
        Task(asks=(("Do I have any unread emails from {sender}?", "Tôi có email nào chưa đọc từ {sender} không?"),
                   ("Check my unread mail from {sender}.", "Kiểm tra thư chưa đọc từ {sender} giúp tôi.")),
             many=(("Are there any unread emails in my inbox from {items}?",
                    "Trong hộp thư đến, có email chưa đọc nào từ {items} không?"),),
             vary="sender",
             slots={"unread": const(True, "unread", "chưa đọc")},
             steps=(Step("search_emails", {"sender": "sender", "unread_only": "unread"},
                         {"sender": "=sender", "unread_count": "count", "latest_subject": "subject"}),),
             tells=(('You have {unread_count} unread emails from {sender}; the latest is "{latest_subject}".',
                     'Bạn có {unread_count} email chưa đọc từ {sender}, thư mới nhất có tiêu đề "{latest_subject}".'),),
             facts=("unread_count", "latest_subject")),
        Task(asks=(("Show me the last {n} emails from {sender}.", "Cho tôi xem {n} email gần nhất từ {sender}."),
                   ("What were the {n} most recent emails {sender} sent me?",
                    "{n} email gần đây nhất {sender} gửi cho tôi là gì?")),
             slots={"n": ints(2, 10)},
             steps=(Step("search_emails", {"sender": "sender", "limit": "n"},
                         {"sender": "=sender", "count": "=limit", "latest_subject": "subject"}),),
             tells=(('The newest of the last {count} emails from {sender} is "{latest_subject}".',
                     'Trong {count} email gần nhất từ {sender}, thư mới nhất có tiêu đề "{latest_subject}".'),),
             facts=("latest_subject",)),
        Task(asks=(('Reply to the latest email from {sender}: "{body}".',
                    'Trả lời email mới nhất của {sender}: "{body}".'),
                   ('Answer {sender}\'s most recent email with "{body}".',
                    'Hồi âm thư gần đây nhất của {sender} với nội dung "{body}".')),
             slots={"one": const(1, "latest", "mới nhất")},
             steps=(Step("search_emails", {"sender": "sender", "limit": "one"},
                         {"latest_email_id": "email", "latest_subject": "subject"}),
                    Step("reply_to_email", {"email_id": "@latest_email_id", "body": "body"},
                         {"email_id": "=email_id", "replied": "done"})),
             tells=(("Replied to {sender}'s latest email ({email_id}).",
                     "Đã trả lời email mới nhất của {sender} ({email_id})."),),
             facts=("email_id",)),
        Task(asks=(("Archive the latest email from {sender}.", "Lưu trữ email mới nhất của {sender}."),
                   ("Get {sender}'s last email out of my inbox and archive it.",
                    "Chuyển email gần nhất của {sender} ra khỏi hộp thư đến vào mục lưu trữ.")),
             slots={"one": const(1, "latest", "mới nhất")},
             steps=(Step("search_emails", {"sender": "sender", "limit": "one"},
                         {"latest_email_id": "email", "latest_subject": "subject"}),
                    Step("archive_email", {"email_id": "@latest_email_id"},
                         {"email_id": "=email_id", "archived": "done"})),
             tells=(("Archived {sender}'s latest email ({email_id}).",
                     "Đã lưu trữ email mới nhất của {sender} ({email_id})."),),
             facts=("email_id",)),
    ),
    unserved=(("Schedule an email to {address} for 8 am tomorrow.",
               "Hẹn giờ gửi email cho {address} lúc 8 giờ sáng mai."),
              ("Block every email from {sender}.", "Chặn mọi email từ {sender}."),
              ("Attach my CV to an email to {address}.", "Đính kèm CV của tôi vào email gửi {address}.")),
)

# --- cloud drive files -------------------------------------------------------------------------------------------

FILE_NAMES = same("Q3_budget.xlsx", "hop_dong_thue_nha.pdf", "team_photo.jpg", "roadmap_2026.pptx", "invoice_0425.pdf",
                  "meeting_notes.docx", "bao_cao_thang_5.docx")
FOLDERS = same("Projects", "Invoices", "Photos", "Marketing", "Contracts", "Tài liệu", "Archive")
FILE_QUERIES = words(("budget", "ngân sách"), ("contract", "hợp đồng"), ("invoice", "hóa đơn"),
                     ("holiday photos", "ảnh kỳ nghỉ"), ("meeting minutes", "biên bản họp"), ("tax", "thuế"))
FILE_KINDS = {"document": ("documents", "văn bản"), "spreadsheet": ("spreadsheets", "bảng tính"),
              "presentation": ("presentations", "bản trình chiếu"), "pdf": ("PDFs", "tệp PDF"),
              "image": ("images", "hình ảnh")}
PERMISSIONS = {"view": ("view", "xem"), "comment": ("comment on", "bình luận"), "edit": ("edit", "chỉnh sửa")}
# What a search for each query finds (its usual type first), and the newest file of each folder.
FILE_HITS = {"budget": ("budget_2026", "xlsx"), "contract": ("hop_dong_thue_nha", "pdf"),
             "invoice": ("invoice_0425", "pdf"),
             "holiday photos": ("holiday_photos_Da_Lat", "jpg"), "meeting minutes": ("bien_ban_hop_thang_5", "docx"),
             "tax": ("to_khai_thue_2025", "pdf")}
EXTENSIONS = {"document": "docx", "spreadsheet": "xlsx", "presentation": "pptx", "pdf": "pdf", "image": "jpg"}
NEWEST = {"Projects": "roadmap_2026.pptx", "Invoices": "invoice_0425.pdf", "Photos": "team_photo.jpg",
          "Marketing": "campaign_brief.docx", "Contracts": "hop_dong_thue_nha.pdf", "Tài liệu": "bao_cao_thang_5.docx",
          "Archive": "Q3_budget.xlsx"}


def _top_file(rng: random.Random, args: Mapping[str, Value]) -> Value:
    """What search_files finds first: the query's file, of the asked type if the call names one."""
    stem, extension = FILE_HITS[args["query"].en]
    name = f"{stem}.{EXTENSIONS[args['file_type'].arg] if 'file_type' in args else extension}"
    return Value(name, name)


def _newest(rng: random.Random, args: Mapping[str, Value]) -> Value:
    name = NEWEST[args["folder"].en]
    return Value(name, name)

FILES = Domain(
    name="files",
    tools=(
        tool("search_files", "Searches the names and contents of files across the user's cloud drive.", ("query",),
             query=string("Words to look for."), file_type=choice("Only files of this type.", FILE_KINDS)),
        tool("list_folder", "Lists the files directly inside one folder of the user's cloud drive.",
             folder=string("The folder's name.")),
        tool("move_file", "Moves a file of the cloud drive into another folder.",
             file_id=string("The file's id, as search_files returns it."),
             destination_folder=string("Target folder name.")),
        tool("share_file", "Shares a file of the cloud drive with someone by email, with a permission level.",
             file_id=string("The file's id, as search_files returns it."), email=string("Email address to share with."),
             permission=choice("What they may do.", PERMISSIONS)),
    ),
    slots={"query": FILE_QUERIES, "kind": coded(**FILE_KINDS), "folder": FOLDERS, "file": FILE_NAMES,
           "address": ADDRESSES, "permission": coded(**PERMISSIONS), "count": ints(2, 12), "file_id": digits(6, "f-")},
    tasks=(
        Task(asks=(('Find "{query}" in my drive.', 'Tìm "{query}" trong drive của tôi.'),
                   ("Search my cloud drive for files about {query}.", "Tìm trong drive các tệp liên quan đến {query}."),
                   ("Where did I put the {query} files?", "Mấy tệp {query} tôi để đâu trong drive nhỉ?")),
             many=(("Search my drive for {items}.", "Tìm {items} trong drive của tôi."),),
             vary="query",
             steps=(Step("search_files", {"query": "query"},
                         {"query": "=query", "match_count": "count", "top_file": Computed(_top_file)}),),
             tells=(('Found {match_count} files for "{query}"; the best match is {top_file}.',
                     'Tìm thấy {match_count} tệp cho "{query}", khớp nhất là {top_file}.'),),
             facts=("match_count", "top_file")),
        Task(asks=(('Search my drive for "{query}", {kind} only.', 'Tìm "{query}" trong drive, chỉ lấy {kind}.'),
                   ("Find {kind} about {query} in my drive.", "Tìm các {kind} về {query} trong drive của tôi.")),
             steps=(Step("search_files", {"query": "query", "file_type": "kind"},
                         {"query": "=query", "file_type": "=file_type", "match_count": "count",
                          "top_file": Computed(_top_file)}),),
             tells=(("There are {match_count} matching {file_type}; the top one is {top_file}.",
                     "Có {match_count} {file_type} phù hợp, đầu tiên là {top_file}."),),
             facts=("match_count", "top_file")),
        Task(asks=(("What's in my {folder} folder?", "Thư mục {folder} của tôi có gì?"),
                   ("List the files in {folder}.", "Liệt kê các tệp trong thư mục {folder}.")),
             many=(("List the files in my {items} folders.", "Liệt kê tệp trong các thư mục {items}."),),
             vary="folder",
             steps=(Step("list_folder", {"folder": "folder"},
                         {"folder": "=folder", "file_count": "count", "newest_file": Computed(_newest)}),),
             tells=(("{folder} has {file_count} files; the newest is {newest_file}.",
                     "Thư mục {folder} có {file_count} tệp, mới nhất là {newest_file}."),),
             facts=("file_count", "newest_file")),
        Task(asks=(("Move {file} to the {folder} folder.", "Chuyển {file} vào thư mục {folder}."),
                   ("Put {file} in {folder}, please.", "Cho tệp {file} vào thư mục {folder} giúp tôi.")),
             steps=(Step("search_files", {"query": "file"}, {"file_id": "file_id", "file_name": "=query"}),
                    Step("move_file", {"file_id": "@file_id", "destination_folder": "folder"},
                         {"file_id": "=file_id", "folder": "=destination_folder"})),
             tells=(("{file} is now in {folder}.", "Đã chuyển {file} vào thư mục {folder}."),),
             facts=("folder",)),
        Task(asks=(("Share {file} with {address} so they can {permission} it.",
                    "Chia sẻ tệp {file} với {address} và cấp quyền {permission} cho người đó."),
                   ("Let {address} {permission} {file}.",
                    "Cấp cho {address} quyền {permission} đối với tệp {file} nhé.")),
             steps=(Step("search_files", {"query": "file"}, {"file_id": "file_id", "file_name": "=query"}),
                    Step("share_file", {"file_id": "@file_id", "email": "address", "permission": "permission"},
                         {"file_id": "=file_id", "shared_with": "=email", "permission": "=permission"})),
             tells=(("Shared {file} with {shared_with}.", "Đã chia sẻ {file} với {shared_with}."),),
             facts=("shared_with",)),
    ),
    unserved=(("Convert {file} to a Word document.", "Chuyển {file} sang định dạng Word."),
              ("Restore last week's version of {file}.", "Khôi phục phiên bản tuần trước của {file}."),
              ("How much free space is left in my drive?", "Drive của tôi còn trống bao nhiêu dung lượng?")),
)

# --- to-do list ------------------------------------------------------------------------------------------------------

TODOS = words(("buy milk", "mua sữa"), ("call the bank", "gọi điện cho ngân hàng"), ("pay the rent", "đóng tiền nhà"),
              ("renew my passport", "gia hạn hộ chiếu"), ("water the plants", "tưới cây"),
              ("submit the tax form", "nộp tờ khai thuế"), ("pick up the dry cleaning", "lấy đồ giặt khô"))
PRIORITIES = {"low": ("low", "thấp"), "medium": ("medium", "trung bình"), "high": ("high", "cao")}

TODO = Domain(
    name="todo",
    tools=(
        tool("add_todo", "Adds a task to the user's to-do list, optionally with a due date and a priority.", ("title",),
             title=string("What has to be done."), due_date=DATE, priority=choice("How urgent it is.", PRIORITIES)),
        tool("list_todos", "The open tasks of the user's to-do list that are due on a date, with their ids.",
             due_date=DATE),
        tool("complete_todo", "Marks a task of the to-do list as done, by its id.",
             todo_id=string("The task's id, as list_todos returns it.")),
        tool("set_todo_priority", "Changes the priority of a task of the to-do list, by its id.",
             todo_id=string("The task's id, as list_todos returns it."),
             priority=choice("The new priority.", PRIORITIES)),
    ),
    slots={"todo": TODOS, "date": dates(), "priority": coded(**PRIORITIES), "todo_id": digits(4, "td-"),
           "count": ints(2, 7), "person": PEOPLE},
    tasks=(
        Task(asks=(('Add "{todo}" to my to-do list.', 'Thêm "{todo}" vào danh sách việc cần làm.'),
                   ("Put {todo} on my to-do list.", "Ghi việc {todo} vào danh sách việc cần làm của tôi."),
                   ("I mustn't forget to {todo}; add it to my to-dos.",
                    "Tôi không được quên {todo}, thêm vào danh sách việc cần làm nhé.")),
             many=(("Add {items} to my to-do list.", "Thêm {items} vào danh sách việc cần làm."),),
             vary="todo",
             steps=(Step("add_todo", {"title": "todo"}, {"todo_id": "todo_id", "title": "=title"}),),
             tells=(('Added "{title}" to your to-do list.', 'Đã thêm "{title}" vào danh sách việc cần làm.'),),
             facts=("title",)),
        Task(asks=(('Add "{todo}" to my to-do list, due {date}, {priority} priority.',
                    'Thêm "{todo}" vào danh sách việc cần làm, hạn {date}, ưu tiên {priority}.'),
                   ("I need to {todo} by {date}; put it on my to-do list as {priority} priority.",
                    "Tôi cần {todo} trước ngày {date}, ghi vào danh sách việc cần làm với mức ưu tiên {priority}.")),
             steps=(Step("add_todo", {"title": "todo", "due_date": "date", "priority": "priority"},
                         {"todo_id": "todo_id", "title": "=title", "due_date": "=due_date", "priority": "=priority"}),),
             tells=(('Added "{title}", due {due_date}, {priority} priority.',
                     'Đã thêm "{title}", hạn {due_date}, mức ưu tiên {priority}.'),),
             facts=("due_date", "priority")),
        Task(asks=(("What's on my to-do list for {date}?", "Danh sách việc cần làm ngày {date} của tôi có gì?"),
                   ("Which of my to-dos are due on {date}?",
                    "Những việc nào trong danh sách việc cần làm đến hạn ngày {date}?")),
             many=(("What's on my to-do list for {items}?",
                    "Cho tôi biết những việc cần làm của tôi trong từng ngày {items}."),),
             vary="date",
             steps=(Step("list_todos", {"due_date": "date"},
                         {"due_date": "=due_date", "open_count": "count", "first_todo": "todo"}),),
             tells=(('You have {open_count} tasks due {due_date}, starting with "{first_todo}".',
                     'Ngày {due_date} bạn có {open_count} việc, đầu tiên là "{first_todo}".'),),
             facts=("open_count", "first_todo")),
        Task(asks=(("Mark my first to-do for {date} as done.",
                    "Đánh dấu việc đầu tiên trong danh sách ngày {date} là đã xong."),
                   ("I finished the first thing on my to-do list for {date}; tick it off.",
                    "Tôi làm xong việc đầu tiên trong danh sách việc cần làm ngày {date} rồi, gạch nó đi.")),
             steps=(Step("list_todos", {"due_date": "date"}, {"first_todo_id": "todo_id", "first_todo": "todo"}),
                    Step("complete_todo", {"todo_id": "@first_todo_id"}, {"todo_id": "=todo_id", "done": "done"})),
             slots={"done": DONE},
             tells=(("Task {todo_id} is marked as done.", "Đã đánh dấu việc {todo_id} là hoàn thành."),),
             facts=("todo_id",)),
        Task(asks=(("Make my first to-do for {date} {priority} priority.",
                    "Đặt việc đầu tiên trong danh sách ngày {date} ở mức ưu tiên {priority}."),),
             steps=(Step("list_todos", {"due_date": "date"}, {"first_todo_id": "todo_id", "first_todo": "todo"}),
                    Step("set_todo_priority", {"todo_id": "@first_todo_id", "priority": "priority"},
                         {"todo_id": "=todo_id", "priority": "=priority"})),
             tells=(("Task {todo_id} is now {priority} priority.", "Việc {todo_id} giờ có mức ưu tiên {priority}."),),
             facts=("priority",)),
    ),
    unserved=(("Share my to-do list with {person}.", "Chia sẻ danh sách việc cần làm của tôi với {person}."),
              ('Repeat "{todo}" every Monday.', 'Lặp lại việc "{todo}" vào mỗi thứ Hai.'),
              ('Text me a reminder to {todo}.', 'Nhắn tin SMS nhắc tôi {todo}.')),
)

# --- notes ----------------------------------------------------------------------------------------------------------

NOTE_TITLES = words(("Shopping list", "Danh sách đi chợ"), ("Gift ideas", "Ý tưởng quà tặng"),
                    ("Wi-Fi password", "Mật khẩu Wi-Fi"), ("Books to read", "Sách cần đọc"),
                    ("Packing list", "Đồ cần mang theo"), ("Meeting ideas", "Ý tưởng cho cuộc họp"))
NOTE_TEXTS = words(("eggs, rice and fish sauce", "trứng, gạo và nước mắm"),
                   ("the guest network code is 4821", "mã mạng khách là 4821"),
                   ("a silk scarf for Mai", "một chiếc khăn lụa cho Mai"),
                   ("read Norwegian Wood next", "đọc Rừng Na Uy tiếp theo"),
                   ("bring the charger and sunscreen", "mang theo sạc và kem chống nắng"),
                   ("ask Minh about the budget", "hỏi Minh về ngân sách"))
NOTE_TOPICS = words(("recipes", "công thức nấu ăn"), ("passwords", "mật khẩu"), ("the Da Lat trip", "chuyến đi Đà Lạt"),
                    ("gifts", "quà tặng"), ("the project meeting", "cuộc họp dự án"))
TOPIC_NOTES = {"recipes": ("Grandma's phở recipe", "Công thức phở của bà"),
               "passwords": ("Wi-Fi password", "Mật khẩu Wi-Fi"),
               "the Da Lat trip": ("Da Lat packing list", "Đồ mang theo đi Đà Lạt"),
               "gifts": ("Gift ideas", "Ý tưởng quà tặng"),
               "the project meeting": ("Meeting ideas", "Ý tưởng cho cuộc họp")}


def _top_note(rng: random.Random, args: Mapping[str, Value]) -> Value:
    return Value(*TOPIC_NOTES[args["keyword"].en])

NOTES = Domain(
    name="notes",
    tools=(
        tool("create_note", "Creates a new note in the user's notes app.", ("title", "content"),
             title=string("The note's title."), content=string("The note's text."),
             pinned=boolean("True to pin the note to the top.")),
        tool("search_notes", "Finds the user's notes about a keyword, best match first, with their ids.",
             keyword=string("What the notes are about.")),
        tool("append_to_note", "Adds text at the end of an existing note, by its id.",
             note_id=string("The note's id, as search_notes returns it."), text=string("Text to add.")),
        tool("delete_note", "Deletes a note, by its id.", note_id=string("The note's id, as search_notes returns it.")),
    ),
    slots={"title": NOTE_TITLES, "content": NOTE_TEXTS, "keyword": NOTE_TOPICS, "note_id": digits(5, "n-"),
           "count": ints(2, 9)},
    tasks=(
        Task(asks=(('Make a note called "{title}": {content}.', 'Tạo ghi chú "{title}": {content}.'),
                   ('New note, title "{title}", text: {content}.',
                    'Ghi chú mới, tiêu đề "{title}", nội dung: {content}.')),
             steps=(Step("create_note", {"title": "title", "content": "content"},
                         {"note_id": "note_id", "title": "=title"}),),
             tells=(('Saved the note "{title}".', 'Đã lưu ghi chú "{title}".'),),
             facts=("title",)),
        Task(asks=(('Create a pinned note "{title}" that says: {content}.',
                    'Tạo một ghi chú ghim "{title}" với nội dung: {content}.'),
                   ('Pin a new note "{title}": {content}.', 'Ghim một ghi chú mới "{title}": {content}.')),
             slots={"pinned": const(True, "pinned", "ghim")},
             steps=(Step("create_note", {"title": "title", "content": "content", "pinned": "pinned"},
                         {"note_id": "note_id", "title": "=title", "pinned": "=pinned"}),),
             tells=(('"{title}" is saved and pinned to the top.', 'Đã lưu và ghim ghi chú "{title}" lên đầu.'),),
             facts=("title",)),
        Task(asks=(("Find my notes about {keyword}.", "Tìm các ghi chú của tôi về {keyword}."),
                   ("Do I have any notes on {keyword}?", "Tôi có ghi chú nào về {keyword} không?")),
             many=(("Find my notes about {items}.", "Tìm các ghi chú về {items}."),),
             vary="keyword",
             steps=(Step("search_notes", {"keyword": "keyword"},
                         {"keyword": "=keyword", "match_count": "count", "top_note": Computed(_top_note)}),),
             tells=(('You have {match_count} notes about {keyword}; the first is "{top_note}".',
                     'Bạn có {match_count} ghi chú về {keyword}, ghi chú đầu tiên là "{top_note}".'),),
             facts=("match_count", "top_note")),
        Task(asks=(('Add "{content}" to my note about {keyword}.',
                    'Thêm "{content}" vào ghi chú về {keyword} của tôi.'),
                   ('In my {keyword} note, also write: {content}.', 'Ghi thêm vào ghi chú về {keyword}: {content}.')),
             steps=(Step("search_notes", {"keyword": "keyword"},
                         {"top_note_id": "note_id", "top_note": Computed(_top_note)}),
                    Step("append_to_note", {"note_id": "@top_note_id", "text": "content"},
                         {"note_id": "=note_id", "added": "=text"})),
             tells=(("Added it to note {note_id}.", "Đã thêm vào ghi chú {note_id}."),),
             facts=("note_id",)),
        Task(asks=(("Delete my note about {keyword}.", "Xóa ghi chú về {keyword} của tôi."),
                   ("Get rid of the note on {keyword}.", "Bỏ cái ghi chú về {keyword} đi.")),
             slots={"done": DONE},
             steps=(Step("search_notes", {"keyword": "keyword"},
                         {"top_note_id": "note_id", "top_note": Computed(_top_note)}),
                    Step("delete_note", {"note_id": "@top_note_id"}, {"note_id": "=note_id", "deleted": "done"})),
             tells=(("Deleted note {note_id}.", "Đã xóa ghi chú {note_id}."),),
             facts=("note_id",)),
    ),
    unserved=(('Export the note "{title}" as a PDF.', 'Xuất ghi chú "{title}" ra tệp PDF.'),
              ('Lock the note "{title}" with a password.', 'Đặt mật khẩu khóa ghi chú "{title}".'),
              ("Record a voice note about {keyword}.", "Ghi âm một ghi chú giọng nói về {keyword}.")),
)

# --- leave requests ---------------------------------------------------------------------------------------------------

LEAVE_TYPES = {"annual": ("annual leave", "nghỉ phép năm"), "sick": ("sick leave", "nghỉ ốm"),
               "compensatory": ("compensatory leave", "nghỉ bù")}
LEAVE_STATES = {"pending": ("pending", "đang chờ duyệt"), "approved": ("approved", "đã được duyệt"),
                "rejected": ("rejected", "bị từ chối")}
LEAVE_REASONS = words(("a family wedding", "dự đám cưới người nhà"), ("moving house", "chuyển nhà"),
                      ("a trip to Da Nang", "đi du lịch Đà Nẵng"), ("visiting my parents", "về thăm bố mẹ"))

HR_LEAVE = Domain(
    name="hr_leave",
    tools=(
        tool("get_leave_balance", "How many days of one kind of leave the employee has left this year.",
             leave_type=choice("The kind of leave.", LEAVE_TYPES)),
        tool("request_leave", "Submits a leave request for approval.", ("leave_type", "start_date", "days"),
             leave_type=choice("The kind of leave.", LEAVE_TYPES), start_date=DATE,
             days=number("Working days off; halves allowed.", minimum=0.5, maximum=30),
             reason=string("Why, in a few words.")),
        tool("list_leave_requests", "The employee's leave requests in one state, newest first, with their ids.",
             status=choice("The requests' state.", LEAVE_STATES)),
        tool("cancel_leave_request", "Withdraws a leave request, by its id.",
             request_id=string("The request's id, as list_leave_requests returns it.")),
    ),
    slots={"leave": coded(**LEAVE_TYPES), "days": nums(0.5, 1.5, 2, 3, 4, 5), "date": dates(),
           "reason": LEAVE_REASONS, "state": coded(**LEAVE_STATES), "request": digits(4, "LV-"),
           "left": figures(0.5, 2, 3.5, 5, 6, 8.5, 12), "count": ints(2, 4), "person": PEOPLE,
           "pending": words(("pending approval", "chờ duyệt"))},
    tasks=(
        Task(asks=(("How many days of {leave} do I have left?", "Tôi còn bao nhiêu ngày {leave}?"),
                   ("What's my {leave} balance?", "Số ngày {leave} còn lại của tôi là bao nhiêu?")),
             many=(("How many days of {items} do I have left?", "Tôi còn bao nhiêu ngày {items}?"),),
             vary="leave",
             steps=(Step("get_leave_balance", {"leave_type": "leave"},
                         {"leave_type": "=leave_type", "days_left": "left"}),),
             tells=(("You have {days_left} days of {leave_type} left.", "Bạn còn {days_left} ngày {leave_type}."),),
             facts=("days_left",)),
        Task(asks=(("Request {days} days of {leave} starting {date}.",
                    "Đăng ký {days} ngày {leave} bắt đầu từ {date}."),
                   ("I'd like to take {days} days of {leave} from {date}.",
                    "Tôi muốn xin {days} ngày {leave} từ ngày {date}.")),
             steps=(Step("request_leave", {"leave_type": "leave", "start_date": "date", "days": "days"},
                         {"request_id": "request", "days": "=days", "start_date": "=start_date",
                          "status": "pending"}),),
             tells=(("Request {request_id} for {days} days from {start_date} is {status}.",
                     "Đơn {request_id} xin nghỉ {days} ngày từ {start_date} hiện đang {status}."),),
             facts=("request_id", "status")),
        Task(asks=(("Book {days} days of {leave} from {date} for {reason}.",
                    "Đăng ký {days} ngày {leave} từ {date} để {reason}."),
                   ("Please put in a request for {days} days of {leave} starting {date}; the reason is {reason}.",
                    "Làm giúp tôi đơn xin {days} ngày {leave} bắt đầu từ {date}, lý do là {reason}.")),
             slots={"leave": coded(annual=LEAVE_TYPES["annual"], compensatory=LEAVE_TYPES["compensatory"])},
             steps=(Step("request_leave", {"leave_type": "leave", "start_date": "date", "days": "days",
                                           "reason": "reason"},
                         {"request_id": "request", "days": "=days", "start_date": "=start_date",
                          "status": "pending"}),),
             tells=(("Request {request_id} for {days} days from {start_date} is {status}.",
                     "Đơn {request_id} xin nghỉ {days} ngày từ {start_date} hiện đang {status}."),),
             facts=("request_id", "status")),
        Task(asks=(("Cancel my pending leave request.", "Hủy đơn xin nghỉ đang chờ duyệt của tôi."),
                   ("Withdraw my leave request that's still pending.", "Rút lại đơn nghỉ phép còn đang chờ duyệt.")),
             slots={"waiting": const("pending", "pending", "đang chờ duyệt"), "done": DONE},
             steps=(Step("list_leave_requests", {"status": "waiting"},
                         {"latest_request_id": "request", "latest_start": "date"}),
                    Step("cancel_leave_request", {"request_id": "@latest_request_id"},
                         {"request_id": "=request_id", "cancelled": "done"})),
             tells=(("Cancelled leave request {request_id}.", "Đã hủy đơn nghỉ {request_id}."),),
             facts=("request_id",)),
        Task(asks=(("Show my {state} leave requests.", "Cho tôi xem các đơn nghỉ {state} của tôi."),
                   ("Do I have any {state} leave requests?", "Tôi có đơn nghỉ nào {state} không?")),
             many=(("Show my {items} leave requests.", "Cho tôi xem các đơn nghỉ {items}."),),
             vary="state",
             steps=(Step("list_leave_requests", {"status": "state"},
                         {"status": "=status", "count": "count", "latest_start": "date"}),),
             tells=(("You have {count} {status} leave requests; the latest starts {latest_start}.",
                     "Bạn có {count} đơn nghỉ {status}, đơn gần nhất bắt đầu từ {latest_start}."),),
             facts=("count",)),
    ),
    unserved=(("Swap my shift with {person} next week.", "Đổi ca với {person} vào tuần sau."),
              ("Show my payslip for last month.", "Cho tôi xem phiếu lương tháng trước."),
              ("Carry my unused {leave} over to next year.", "Chuyển số ngày {leave} chưa dùng sang năm sau.")),
)

# --- the car ----------------------------------------------------------------------------------------------------------

TIRES = {"front_left": ("front left", "trước bên trái"), "front_right": ("front right", "trước bên phải"),
         "rear_left": ("rear left", "sau bên trái"), "rear_right": ("rear right", "sau bên phải")}

VEHICLE = Domain(
    name="vehicle",
    tools=(
        tool("set_car_lock", "Locks or unlocks the doors of the user's car.",
             locked=boolean("True to lock, false to unlock.")),
        tool("get_vehicle_status", "Battery charge and remaining driving range of the user's electric car."),
        tool("get_tire_pressure", "Pressure of one tyre of the user's car, in bar.", tire=choice("Which tyre.", TIRES)),
        tool("set_car_climate", "Starts the car's climate control at a cabin temperature, "
             "optionally defrosting the windshield.", ("temperature",),
             temperature=number("Cabin temperature in degrees Celsius.", minimum=16, maximum=30),
             defrost=boolean("True to defrost the windshield too.")),
    ),
    slots={"tire": coded(**TIRES), "temp": nums(18, 20, 21.5, 22, 23, 24.5, 26), "battery": ints(15, 95, 5),
           "range": ints(60, 420, 10), "pressure": figures(2.1, 2.2, 2.3, 2.4, 2.5, 2.6)},
    tasks=(
        Task(asks=(("Lock my car.", "Khóa xe ô tô của tôi."),
                   ("I think I forgot to lock the car. Can you lock it?",
                    "Hình như tôi quên khóa xe, khóa giúp tôi với.")),
             slots={"lock": const(True, "lock", "khóa")},
             steps=(Step("set_car_lock", {"locked": "lock"}, {"locked": "=locked"}),),
             tells=(("Your car is locked.", "Xe của bạn đã được khóa."),), facts=()),
        Task(asks=(("Unlock the car.", "Mở khóa xe giúp tôi."),
                   ("Please unlock my car, I'm standing next to it.", "Mở khóa ô tô giúp tôi, tôi đang đứng cạnh xe.")),
             slots={"lock": const(False, "unlock", "mở khóa")},
             steps=(Step("set_car_lock", {"locked": "lock"}, {"locked": "=locked"}),),
             tells=(("Your car is unlocked.", "Xe của bạn đã được mở khóa."),), facts=()),
        Task(asks=(("How much battery does my car have?", "Xe của tôi còn bao nhiêu pin?"),
                   ("How far can my car go on its current charge?", "Với mức pin hiện tại xe tôi đi được bao xa?")),
             steps=(Step("get_vehicle_status", {}, {"battery_percent": "battery", "range_km": "range"}),),
             tells=(("Your car has {battery_percent}% battery, about {range_km} km of range.",
                     "Xe còn {battery_percent}% pin, đi được khoảng {range_km} km."),),
             facts=("battery_percent", "range_km")),
        Task(asks=(("What's the pressure in the {tire} tyre?", "Áp suất lốp {tire} là bao nhiêu?"),
                   ("Is the {tire} tyre low on air?", "Lốp {tire} có bị non hơi không?")),
             many=(("Check the pressure of the {items} tyres.", "Kiểm tra áp suất các lốp {items}."),),
             vary="tire",
             steps=(Step("get_tire_pressure", {"tire": "tire"}, {"tire": "=tire", "pressure_bar": "pressure"}),),
             tells=(("The {tire} tyre is at {pressure_bar} bar.", "Lốp {tire} đang ở mức {pressure_bar} bar."),),
             facts=("pressure_bar",)),
        Task(asks=(("Set the car's climate to {temp} degrees.", "Đặt điều hòa trên xe ở {temp} độ."),
                   ("Get the car to {temp}°C before I leave.", "Bật điều hòa xe ở {temp}°C trước khi tôi đi.")),
             steps=(Step("set_car_climate", {"temperature": "temp"}, {"target_c": "=temperature"}),),
             tells=(("The car's climate is set to {target_c}°C.", "Điều hòa trên xe đã đặt ở {target_c}°C."),),
             facts=("target_c",)),
        Task(asks=(("Set the car to {temp}°C and defrost the windscreen.",
                    "Đặt điều hòa xe {temp}°C và bật sấy kính chắn gió."),),
             slots={"defrost": const(True, "defrost", "sấy kính")},
             steps=(Step("set_car_climate", {"temperature": "temp", "defrost": "defrost"},
                         {"target_c": "=temperature", "defrost": "=defrost"}),),
             tells=(("The car's climate is set to {target_c}°C with the windscreen defrost on.",
                     "Đã đặt điều hòa xe {target_c}°C và bật sấy kính chắn gió."),),
             facts=("target_c",)),
    ),
    unserved=(("Open the sunroof.", "Mở cửa sổ trời của xe."),
              ("Book a service appointment for my car.", "Đặt lịch bảo dưỡng xe cho tôi."),
              ("Inflate the {tire} tyre to 2.5 bar.", "Bơm lốp {tire} lên 2.5 bar.")),
)

# --- garden and greenhouse sensors ------------------------------------------------------------------------------------

ZONES = {"greenhouse_a": ("greenhouse A", "nhà kính A"), "greenhouse_b": ("greenhouse B", "nhà kính B"),
         "vegetable_bed": ("the vegetable bed", "luống rau"), "orchard": ("the orchard", "vườn cây ăn quả"),
         "lawn": ("the lawn", "bãi cỏ")}

IOT = Domain(
    name="iot_sensors",
    tools=(
        tool("get_zone_readings", "Latest soil moisture, air temperature and humidity from the sensors of one "
             "garden or greenhouse zone.", zone=choice("The zone.", ZONES)),
        tool("set_irrigation_valve", "Opens (for a number of minutes) or closes the irrigation valve of a zone.",
             ("zone", "open"), zone=choice("The zone.", ZONES), open=boolean("True to open, false to close."),
             duration_minutes=integer("How long to water.", minimum=1, maximum=120)),
        tool("set_moisture_threshold", "Waters a zone automatically whenever its soil moisture falls below a level.",
             zone=choice("The zone.", ZONES),
             min_moisture_percent=integer("Soil moisture that starts watering.", minimum=10, maximum=80)),
    ),
    slots={"zone": coded(**ZONES), "minutes": ints(5, 45, 5), "level": ints(20, 50, 5), "moisture": ints(15, 70, 5),
           "air": figures(22.5, 24, 26.5, 28, 31.5, 33), "humidity": ints(45, 90, 5), "dry": ints(10, 25, 5)},
    tasks=(
        Task(asks=(("What's the soil moisture in {zone}?", "Độ ẩm đất ở {zone} là bao nhiêu?"),
                   ("How are conditions in {zone} right now?", "Cảm biến ở {zone} đang đo được những gì?")),
             many=(("Check the sensors in {items}.", "Kiểm tra cảm biến ở {items}."),),
             vary="zone",
             steps=(Step("get_zone_readings", {"zone": "zone"},
                         {"zone": "=zone", "soil_moisture_percent": "moisture", "air_temperature_c": "air",
                          "humidity_percent": "humidity"}),),
             tells=(("{zone}: soil moisture {soil_moisture_percent}%, {air_temperature_c}°C, "
                     "humidity {humidity_percent}%.",
                     "{zone}: độ ẩm đất {soil_moisture_percent}%, nhiệt độ {air_temperature_c}°C, "
                     "độ ẩm không khí {humidity_percent}%."),),
             facts=("soil_moisture_percent", "air_temperature_c")),
        Task(asks=(("Water {zone} for {minutes} minutes.", "Bật tưới nước cho {zone} trong {minutes} phút giúp tôi."),
                   ("Open the irrigation valve in {zone} for {minutes} minutes.",
                    "Mở van tưới ở {zone} trong {minutes} phút.")),
             many=(("Water {items} for {minutes} minutes.",
                    "Bật hệ thống tưới nước cho {items} trong {minutes} phút giúp tôi."),),
             vary="zone",
             slots={"open": const(True, "open", "mở")},
             steps=(Step("set_irrigation_valve", {"zone": "zone", "open": "open", "duration_minutes": "minutes"},
                         {"zone": "=zone", "open": "=open", "duration_minutes": "=duration_minutes"}),),
             tells=(("Watering {zone} for {duration_minutes} minutes.",
                     "Đang tưới {zone} trong {duration_minutes} phút."),),
             facts=("duration_minutes",)),
        Task(asks=(("Turn off the irrigation in {zone}.", "Tắt hệ thống tưới ở {zone}."),
                   ("Close the water valve for {zone}.", "Đóng van nước của {zone}.")),
             many=(("Stop watering {items}.", "Dừng hệ thống tưới nước ở {items} lại giúp tôi."),),
             vary="zone",
             slots={"open": const(False, "close", "đóng")},
             steps=(Step("set_irrigation_valve", {"zone": "zone", "open": "open"},
                         {"zone": "=zone", "open": "=open"}),),
             tells=(("The valve in {zone} is closed.", "Van tưới ở {zone} đã đóng."),), facts=()),
        Task(asks=(("Check the soil in {zone} and water it for {minutes} minutes if it's dry.",
                    "Kiểm tra đất ở {zone}, nếu khô thì tưới {minutes} phút."),),
             slots={"open": const(True, "open", "mở")},
             steps=(Step("get_zone_readings", {"zone": "zone"}, {"zone": "=zone", "soil_moisture_percent": "dry"}),
                    Step("set_irrigation_valve", {"zone": "@zone", "open": "open", "duration_minutes": "minutes"},
                         {"zone": "=zone", "open": "=open", "duration_minutes": "=duration_minutes"})),
             tells=(("The soil was dry, so {zone} is being watered for {duration_minutes} minutes.",
                     "Đất đang khô nên {zone} được tưới trong {duration_minutes} phút."),),
             facts=("duration_minutes",)),
        Task(asks=(("Water {zone} automatically when the soil moisture drops below {level}%.",
                    "Tự động tưới {zone} khi độ ẩm đất xuống dưới {level}%."),),
             steps=(Step("set_moisture_threshold", {"zone": "zone", "min_moisture_percent": "level"},
                         {"zone": "=zone", "min_moisture_percent": "=min_moisture_percent"}),),
             tells=(("{zone} will be watered whenever its soil moisture falls below {min_moisture_percent}%.",
                     "{zone} sẽ được tự động tưới khi độ ẩm đất dưới {min_moisture_percent}%."),),
             facts=("min_moisture_percent",)),
    ),
    unserved=(("What's the soil pH in {zone}?", "Độ pH của đất ở {zone} là bao nhiêu?"),
              ("Add fertiliser to the water for {zone}.", "Pha phân bón vào nước tưới cho {zone}."),
              ("Show a chart of the temperature in {zone} over the past month.",
               "Hiển thị biểu đồ nhiệt độ ở {zone} trong tháng qua.")),
)

# --- currency exchange ------------------------------------------------------------------------------------------------

CURRENCIES = {"USD": ("US dollars", "đô la Mỹ"), "EUR": ("euros", "euro"), "GBP": ("British pounds", "bảng Anh"),
              "JPY": ("Japanese yen", "yên Nhật"), "AUD": ("Australian dollars", "đô la Úc"),
              "SGD": ("Singapore dollars", "đô la Singapore"), "VND": ("Vietnamese dong", "đồng Việt Nam"),
              "THB": ("Thai baht", "baht Thái"), "KRW": ("Korean won", "won Hàn Quốc"),
              "CNY": ("Chinese yuan", "nhân dân tệ")}
ONE_OF = {"USD": ("US dollar", "đô la Mỹ"), "EUR": ("euro", "euro"), "GBP": ("British pound", "bảng Anh"),
          "JPY": ("Japanese yen", "yên Nhật"), "AUD": ("Australian dollar", "đô la Úc"),
          "SGD": ("Singapore dollar", "đô la Singapore")}
SOURCE_CODES = ("USD", "EUR", "GBP", "JPY", "AUD", "SGD")
TARGET_CODES = ("VND", "THB", "KRW", "CNY")
USD_PER = {"USD": 1.0, "EUR": 1.16, "GBP": 1.34, "JPY": 0.00665, "AUD": 0.655, "SGD": 0.772,
           "VND": 1 / 26300, "THB": 1 / 32.5, "KRW": 1 / 1400, "CNY": 1 / 7.12}  # rough late-2025 rates


def _rate(base: str, quote: str) -> float:
    return USD_PER[base] / USD_PER[quote]


def _converted(rng: random.Random, args: Mapping[str, Value]) -> Value:
    amount = args["amount"].arg * _rate(args["from_currency"].arg, args["to_currency"].arg)
    return _figure(round(amount) if amount >= 1000 else _rounded(amount))


def _historical(rng: random.Random, args: Mapping[str, Value]) -> Value:
    rate = _rate(args["base_currency"].arg, args["quote_currency"].arg) * rng.uniform(0.96, 1.04)
    return _figure(round(rate) if rate >= 1000 else _rounded(rate))


CURRENCY = Domain(
    name="currency_exchange",
    tools=(
        tool("convert_currency", "Converts an amount of money between currencies at today's rate.",
             amount=number("The amount to convert.", exclusiveMinimum=0),
             from_currency=choice("Currency of the amount.", CURRENCIES),
             to_currency=choice("Currency to convert into.", CURRENCIES)),
        tool("get_historical_exchange_rate",
             "How many units of the quote currency one unit of the base "
             "currency bought on a past date.", base_currency=choice("Base currency.", CURRENCIES),
             quote_currency=choice("Quote currency.", CURRENCIES), date=DATE),
        tool("create_rate_alert", "Notifies the user when one unit of the base currency reaches a "
             "rate in the quote currency.", base_currency=choice("Base currency.", CURRENCIES),
             quote_currency=choice("Quote currency.", CURRENCIES),
             target_rate=number("The rate to watch for.", exclusiveMinimum=0)),
    ),
    slots={"amount": nums(20, 50, 100, 250, 75.5, 1200, 3000, 15000),
           "src": coded(**{c: CURRENCIES[c] for c in SOURCE_CODES}),
           "dst": coded(**{c: CURRENCIES[c] for c in TARGET_CODES}),
           "base": coded(**ONE_OF), "quote": coded(**{c: CURRENCIES[c] for c in TARGET_CODES}),
           "date": dates(2025), "alert": digits(4, "fx-")},
    tasks=(
        Task(asks=(("How much is {amount} {src} in {dst}?", "{amount} {src} đổi được bao nhiêu {dst}?"),
                   ("Convert {amount} {src} to {dst}.", "Đổi giúp tôi {amount} {src} ra {dst}, được bao nhiêu?"),
                   ("I have {amount} {src}. What's that in {dst}?",
                    "Tôi có {amount} {src}, tương đương bao nhiêu {dst}?")),
             many=(("Convert {amount} {src} into {items}.", "Đổi {amount} {src} sang {items} thì được bao nhiêu?"),),
             vary="dst",
             steps=(Step("convert_currency", {"amount": "amount", "from_currency": "src", "to_currency": "dst"},
                         {"amount": "=amount", "from_currency": "=from_currency", "to_currency": "=to_currency",
                          "converted_amount": Computed(_converted)}),),
             tells=(("{amount} {from_currency} is about {converted_amount} {to_currency}.",
                     "{amount} {from_currency} tương đương khoảng {converted_amount} {to_currency}."),),
             facts=("converted_amount",)),
        Task(asks=(("What was the {base} to {quote} rate on {date}?",
                    "Tỷ giá {base} so với {quote} vào ngày {date} là bao nhiêu vậy?"),
                   ("How many {quote} did one {base} buy on {date}?",
                    "Ngày {date}, một {base} đổi được bao nhiêu {quote}?")),
             many=(("What was the {base} to {quote} rate on {items}?",
                    "Tôi muốn biết tỷ giá {base} so với {quote} của từng ngày {items}."),),
             vary="date",
             steps=(Step("get_historical_exchange_rate", {"base_currency": "base", "quote_currency": "quote",
                                                          "date": "date"},
                         {"base_currency": "=base_currency", "quote_currency": "=quote_currency", "date": "=date",
                          "rate": Computed(_historical)}),),
             tells=(("On {date}, 1 {base_currency} was {rate} {quote_currency}.",
                     "Ngày {date}, 1 {base_currency} bằng {rate} {quote_currency}."),),
             facts=("rate",)),
        Task(asks=(("Alert me when one {base} reaches {target} {quote}.",
                    "Báo cho tôi khi một {base} lên tới {target} {quote}."),
                   ("Let me know if the {base} hits {target} {quote}.",
                    "Nhắc tôi khi tỷ giá {base} chạm mức {target} {quote}.")),
             slots={"base": coded(USD=ONE_OF["USD"]), "quote": coded(VND=CURRENCIES["VND"]),
                    "target": nums(25800, 26000, 26500, 27000)},
             steps=(Step("create_rate_alert", {"base_currency": "base", "quote_currency": "quote",
                                               "target_rate": "target"},
                         {"alert_id": "alert", "target_rate": "=target_rate"}),),
             tells=(("Alert set: you'll hear from me when 1 {base} reaches {target_rate} {quote}.",
                     "Đã đặt cảnh báo: bạn sẽ được báo khi 1 {base} đạt {target_rate} {quote}."),),
             facts=("target_rate",)),
    ),
    unserved=(("Buy {amount} {src} in cash for me.", "Mua giúp tôi {amount} {src} tiền mặt."),
              ("How much is one Bitcoin in {dst}?", "Một Bitcoin bằng bao nhiêu {dst}?"),
              ("Where is the nearest currency exchange counter?", "Quầy đổi ngoại tệ gần nhất ở đâu?")),
)

# --- stocks -----------------------------------------------------------------------------------------------------------

SYMBOLS = same("VNM", "FPT", "VCB", "HPG", "MWG", "AAPL", "MSFT", "NVDA", "TSLA")
SIDES = {"buy": ("buy", "mua"), "sell": ("sell", "bán")}
ORDER_TYPES = {"market": ("market", "thị trường"), "limit": ("limit", "giới hạn")}

STOCKS = Domain(
    name="stocks",
    tools=(
        tool("get_stock_quote", "Latest price and today's change of a stock, by its ticker symbol.",
             symbol=string("Ticker symbol, e.g. FPT.")),
        tool("get_stock_portfolio", "The user's brokerage account: total value, "
             "today's change and open orders, newest first."),
        tool("place_stock_order", "Places an order to buy or sell shares; a limit order needs a limit price.",
             ("symbol", "side", "quantity", "order_type"), symbol=string("Ticker symbol."),
             side=choice("Buy or sell.", SIDES), quantity=integer("Number of shares.", minimum=1),
             order_type=choice("Market or limit order.", ORDER_TYPES),
             limit_price=number("Highest buy or lowest sell price, for a limit order.", exclusiveMinimum=0)),
        tool("cancel_stock_order", "Cancels an open stock order, by its id.",
             order_id=string("The order's id, as get_stock_portfolio returns it.")),
    ),
    slots={"symbol": SYMBOLS, "qty": ints(5, 200, 5), "limit": nums(23.5, 64.75, 87, 130.25, 188.5, 410),
           "price": figures(23.45, 64.9, 87.5, 131.2, 189.95, 412.8),
           "change": figures(-2.3, -0.8, 0.4, 1.25, 3.1), "order": digits(6, "so-"),
           "value": figures(7420.9, 12850.4, 48210, 103560.75), "status": words(("open", "đang chờ khớp"))},
    tasks=(
        Task(asks=(("What's {symbol} trading at?", "Cổ phiếu {symbol} đang giá bao nhiêu?"),
                   ("Get me a quote for {symbol}.", "Cho tôi xem giá cổ phiếu {symbol} hiện tại."),
                   ("How is {symbol} doing today?", "Hôm nay mã {symbol} thế nào?")),
             many=(("Get quotes for {items}.", "Cho tôi giá cổ phiếu {items}."),),
             vary="symbol",
             steps=(Step("get_stock_quote", {"symbol": "symbol"},
                         {"symbol": "=symbol", "price": "price", "change_percent": "change"}),),
             tells=(("{symbol} is at {price}, {change_percent}% today.",
                     "{symbol} đang ở mức {price}, thay đổi {change_percent}% trong hôm nay."),),
             facts=("price", "change_percent")),
        Task(asks=(("Buy {qty} shares of {symbol} at a limit price of {limit}.",
                    "Mua {qty} cổ phiếu {symbol} với giá giới hạn {limit}."),
                   ("Place a limit order: buy {qty} {symbol} at {limit}.",
                    "Đặt lệnh giới hạn mua {qty} {symbol} giá {limit}.")),
             slots={"side": const("buy", "buy", "mua"), "type": const("limit", "limit", "giới hạn")},
             steps=(Step("place_stock_order", {"symbol": "symbol", "side": "side", "quantity": "qty",
                                               "order_type": "type",
                                               "limit_price": "limit"},
                         {"order_id": "order", "symbol": "=symbol", "quantity": "=quantity",
                          "limit_price": "=limit_price",
                          "status": "status"}),),
             tells=(("Limit order {order_id} to buy {quantity} {symbol} at {limit_price} is placed.",
                     "Đã đặt lệnh {order_id} mua {quantity} {symbol} giá giới hạn {limit_price}."),),
             facts=("order_id",)),
        Task(asks=(("Sell {qty} shares of {symbol} at market price.",
                    "Bán {qty} cổ phiếu {symbol} theo giá thị trường."),
                   ("Sell {qty} {symbol} at market, please.", "Bán giúp tôi {qty} cổ phiếu {symbol} giá thị trường.")),
             many=(("Sell {qty} shares each of {items} at market price.",
                    "Bán {qty} cổ phiếu mỗi mã {items} theo giá thị trường."),),
             vary="symbol",
             slots={"side": const("sell", "sell", "bán"), "type": const("market", "market", "thị trường")},
             steps=(Step("place_stock_order", {"symbol": "symbol", "side": "side", "quantity": "qty",
                                               "order_type": "type"},
                         {"order_id": "order", "symbol": "=symbol", "quantity": "=quantity",
                          "filled_price": "price"}),),
             tells=(("Sold {quantity} {symbol} at {filled_price}.",
                     "Đã bán {quantity} {symbol} với giá {filled_price}."),),
             facts=("filled_price",)),
        Task(asks=(("How's my portfolio doing?", "Danh mục đầu tư của tôi thế nào rồi?"),
                   ("What's my stock portfolio worth today?", "Hôm nay danh mục cổ phiếu của tôi trị giá bao nhiêu?")),
             steps=(Step("get_stock_portfolio", {}, {"total_value": "value", "day_change_percent": "change"}),),
             tells=(("Your portfolio is worth {total_value}, {day_change_percent}% today.",
                     "Danh mục của bạn trị giá {total_value}, thay đổi {day_change_percent}% hôm nay."),),
             facts=("total_value", "day_change_percent")),
        Task(asks=(("Cancel my latest open stock order.", "Hủy lệnh chứng khoán đang chờ gần nhất của tôi."),
                   ("Pull my most recent open order.", "Rút lệnh đặt gần nhất chưa khớp của tôi.")),
             slots={"done": DONE},
             steps=(Step("get_stock_portfolio", {}, {"latest_open_order_id": "order",
                                                     "latest_open_order_symbol": "symbol"}),
                    Step("cancel_stock_order", {"order_id": "@latest_open_order_id"},
                         {"order_id": "=order_id", "cancelled": "done"})),
             tells=(("Cancelled order {order_id}.", "Đã hủy lệnh {order_id}."),),
             facts=("order_id",)),
    ),
    unserved=(("Short-sell {qty} shares of {symbol}.", "Bán khống {qty} cổ phiếu {symbol}."),
              ("Show me the five-year chart of {symbol}.", "Cho tôi xem biểu đồ giá 5 năm của {symbol}."),
              ("Buy call options on {symbol} expiring next month.", "Mua quyền chọn mua {symbol} đáo hạn tháng sau.")),
)

# --- utility bills ---------------------------------------------------------------------------------------------------

UTILITIES = {"electricity": ("electricity", "điện"), "water": ("water", "nước"), "internet": ("internet", "internet"),
             "gas": ("gas", "gas")}
PERIODS_BILLED = same(*(f"{m:02d}/2026" for m in range(1, 7)))  # billing periods as bills print them
PAY_METHODS = {"e_wallet": ("my e-wallet", "ví điện tử"), "bank_card": ("my bank card", "thẻ ngân hàng"),
               "bank_account": ("my bank account", "tài khoản ngân hàng")}


def _due_after(rng: random.Random, args: Mapping[str, Value]) -> Value:
    month, year = map(int, args["period"].en.split("/"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    due = f"{year}-{month:02d}-{rng.randint(5, 20):02d}"
    return Value(due, due)


UTILITY_BILLS = Domain(
    name="utility_bills",
    tools=(
        tool("get_utility_bill", "Amount, due date and id of the user's bill for one utility and month.",
             utility=choice("The utility.", UTILITIES),
             period={"type": "string", "pattern": r"^\d{2}/\d{4}$", "description": "Billing period as MM/YYYY."}),
        tool("pay_utility_bill", "Pays a utility bill by its id.", ("bill_id",),
             bill_id=string("The bill's id."), payment_method=choice("How to pay.", PAY_METHODS)),
        tool("set_utility_autopay", "Turns automatic payment of one utility's bills on or off.",
             utility=choice("The utility.", UTILITIES), enabled=boolean("True to turn autopay on, false for off.")),
    ),
    slots={"utility": coded(**UTILITIES), "month": PERIODS_BILLED, "method": coded(**PAY_METHODS),
           "bill": digits(8, "HD"), "amount": figures(185000, 326500, 412000, 799000, 1254000, 2380000),
           "receipt": digits(6, "R"), "paid": words(("paid", "đã thanh toán"))},
    tasks=(
        Task(asks=(("How much is my {utility} bill for {month}?",
                    "Hóa đơn tiền {utility} kỳ {month} của tôi là bao nhiêu?"),
                   ("Show me the {utility} bill for the {month} billing period.",
                    "Cho tôi xem hóa đơn {utility} kỳ {month}.")),
             many=(("How much are my {items} bills for {month}?", "Hóa đơn {items} kỳ {month} của tôi bao nhiêu?"),),
             vary="utility",
             steps=(Step("get_utility_bill", {"utility": "utility", "period": "month"},
                         {"utility": "=utility", "period": "=period", "bill_id": "bill", "amount_vnd": "amount",
                          "due_date": Computed(_due_after)}),),
             tells=(("Your {utility} bill for {period} is {amount_vnd} VND, due {due_date}.",
                     "Hóa đơn {utility} kỳ {period} là {amount_vnd} đồng, hạn thanh toán {due_date}."),),
             facts=("amount_vnd", "due_date")),
        Task(asks=(("Pay my {utility} bill for {month} with {method}.",
                    "Thanh toán hóa đơn {utility} kỳ {month} bằng {method}."),
                   ("Settle the {utility} bill for {month} using {method}.",
                    "Trả tiền {utility} kỳ {month} bằng {method} giúp tôi.")),
             steps=(Step("get_utility_bill", {"utility": "utility", "period": "month"},
                         {"bill_id": "bill", "amount_vnd": "amount", "due_date": Computed(_due_after)}),
                    Step("pay_utility_bill", {"bill_id": "@bill_id", "payment_method": "method"},
                         {"bill_id": "=bill_id", "status": "paid", "receipt_no": "receipt"})),
             tells=(("Bill {bill_id} is paid; receipt {receipt_no}.",
                     "Đã thanh toán hóa đơn {bill_id}, biên lai số {receipt_no}."),),
             facts=("receipt_no",)),
        Task(asks=(("Pay bill {bill}.", "Thanh toán giúp tôi hóa đơn số {bill} nhé."),
                   ("Please settle bill number {bill}.", "Trả giúp tôi hóa đơn số {bill}.")),
             steps=(Step("pay_utility_bill", {"bill_id": "bill"},
                         {"bill_id": "=bill_id", "status": "paid", "receipt_no": "receipt"}),),
             tells=(("Bill {bill_id} is paid; receipt {receipt_no}.",
                     "Đã thanh toán hóa đơn {bill_id}, biên lai số {receipt_no}."),),
             facts=("receipt_no",)),
        Task(asks=(("Turn on autopay for my {utility} bill.", "Bật tự động thanh toán hóa đơn {utility}."),
                   ("I want my {utility} bill paid automatically every month.",
                    "Tôi muốn hóa đơn {utility} được tự động thanh toán hằng tháng.")),
             many=(("Turn on autopay for my {items} bills.", "Bật tự động thanh toán cho hóa đơn {items}."),),
             vary="utility",
             slots={"on": const(True, "on", "bật")},
             steps=(Step("set_utility_autopay", {"utility": "utility", "enabled": "on"},
                         {"utility": "=utility", "autopay": "=enabled"}),),
             tells=(("Autopay is on for your {utility} bill.",
                     "Đã bật tự động thanh toán hóa đơn {utility}."),), facts=()),
        Task(asks=(("Stop paying my {utility} bill automatically.", "Tắt tự động thanh toán tiền {utility}."),),
             slots={"on": const(False, "off", "tắt")},
             steps=(Step("set_utility_autopay", {"utility": "utility", "enabled": "on"},
                         {"utility": "=utility", "autopay": "=enabled"}),),
             tells=(("Autopay is off for your {utility} bill.",
                     "Đã tắt tự động thanh toán hóa đơn {utility}."),), facts=()),
    ),
    unserved=(("Dispute my {utility} bill for {month}; I was overcharged.",
               "Khiếu nại hóa đơn {utility} kỳ {month}, tôi bị tính sai tiền."),
              ("Split the {utility} bill with my roommates.", "Chia hóa đơn {utility} với bạn cùng phòng."),
              ("Switch my {utility} provider.", "Đổi nhà cung cấp {utility} cho tôi.")),
)

# --- courses ----------------------------------------------------------------------------------------------------------

COURSE_CODES = same("CS101", "MATH202", "ENG110", "PHY150", "ECON210", "BIO120", "HIS105")
WEEKDAYS = {"monday": ("Monday", "thứ Hai"), "tuesday": ("Tuesday", "thứ Ba"), "wednesday": ("Wednesday", "thứ Tư"),
            "thursday": ("Thursday", "thứ Năm"), "friday": ("Friday", "thứ Sáu"), "saturday": ("Saturday", "thứ Bảy")}
SEMESTERS = {"fall_2026": ("fall 2026", "học kỳ thu 2026"), "spring_2027": ("spring 2027", "học kỳ xuân 2027"),
             "summer_2027": ("summer 2027", "học kỳ hè 2027")}

COURSES = Domain(
    name="courses",
    tools=(
        tool("enroll_in_course", "Enrols the student in a course, this semester unless another is given.",
             ("course_code",), course_code=string("Course code, e.g. CS101."),
             semester=choice("The semester.", SEMESTERS)),
        tool("drop_course", "Withdraws the student from a course they are enrolled in.",
             course_code=string("Course code.")),
        tool("get_course_grade", "The student's score in one course, out of 10.", course_code=string("Course code.")),
        tool("get_class_timetable", "The student's classes on one weekday: course codes, start times and rooms.",
             day=choice("The weekday.", WEEKDAYS)),
    ),
    slots={"course": COURSE_CODES, "semester": coded(**SEMESTERS), "day": coded(**WEEKDAYS), "seats": ints(1, 30),
           "score": figures(6.8, 7.5, 8.25, 8.9, 9.4),
           "time": same("07:00", "07:30", "08:15", "09:30", "13:00", "14:45"),
           "room": same("A2-301", "B1-105", "C4-210", "D3-402"), "done": DONE},
    tasks=(
        Task(asks=(("Enrol me in {course}.", "Đăng ký cho tôi môn {course}."),
                   ("Sign me up for {course}, please.", "Cho tôi đăng ký học phần {course} nhé.")),
             many=(("Enrol me in {items}.", "Đăng ký cho tôi các môn {items}."),),
             vary="course",
             steps=(Step("enroll_in_course", {"course_code": "course"},
                         {"course_code": "=course_code", "enrolled": "done", "seats_left": "seats"}),),
             tells=(("You're enrolled in {course_code}; {seats_left} seats are left.",
                     "Bạn đã đăng ký môn {course_code}, lớp còn {seats_left} chỗ."),),
             facts=("course_code",)),
        Task(asks=(("Enrol me in {course} for {semester}.", "Đăng ký môn {course} cho {semester}."),
                   ("Can I take {course} in {semester}? Sign me up.",
                    "Cho tôi học môn {course} vào {semester}, đăng ký giúp tôi.")),
             steps=(Step("enroll_in_course", {"course_code": "course", "semester": "semester"},
                         {"course_code": "=course_code", "semester": "=semester", "enrolled": "done"}),),
             tells=(("You're enrolled in {course_code} for {semester}.",
                     "Bạn đã đăng ký môn {course_code} cho {semester}."),),
             facts=("course_code", "semester")),
        Task(asks=(("What did I score in {course}?", "Môn {course} tôi được bao nhiêu điểm?"),
                   ("Show my {course} grade.", "Cho tôi xem điểm môn {course}.")),
             many=(("What are my grades in {items}?", "Điểm các môn {items} của tôi thế nào?"),),
             vary="course",
             steps=(Step("get_course_grade", {"course_code": "course"},
                         {"course_code": "=course_code", "score_out_of_10": "score"}),),
             tells=(("You scored {score_out_of_10}/10 in {course_code}.",
                     "Bạn được {score_out_of_10}/10 điểm môn {course_code}."),),
             facts=("score_out_of_10",)),
        Task(asks=(("What classes do I have on {day}?", "{day} tôi có những môn gì?"),
                   ("Show my timetable for {day}.", "Cho tôi xem thời khóa biểu {day}.")),
             many=(("Show my timetable for {items}.", "Cho tôi xem thời khóa biểu {items}."),),
             vary="day",
             steps=(Step("get_class_timetable", {"day": "day"},
                         {"day": "=day", "first_class": "course", "starts": "time", "room": "room"}),),
             tells=(("On {day} your first class is {first_class} at {starts} in room {room}.",
                     "{day}, tiết đầu tiên của bạn là môn {first_class} lúc {starts}, phòng {room}."),),
             facts=("first_class", "starts")),
        Task(asks=(("What did I score in my first class on {day}?",
                    "Môn học đầu tiên vào {day} của tôi được bao nhiêu điểm?"),),
             steps=(Step("get_class_timetable", {"day": "day"}, {"first_class_code": "course", "starts": "time"}),
                    Step("get_course_grade", {"course_code": "@first_class_code"},
                         {"course_code": "=course_code", "score_out_of_10": "score"})),
             tells=(("You scored {score_out_of_10}/10 in {course_code}.",
                     "Bạn được {score_out_of_10}/10 điểm môn {course_code}."),),
             facts=("score_out_of_10",)),
        Task(asks=(("Drop {course}.", "Hủy đăng ký môn {course}."),
                   ("I want to withdraw from {course}.", "Tôi muốn rút khỏi môn {course}.")),
             steps=(Step("drop_course", {"course_code": "course"},
                         {"course_code": "=course_code", "dropped": "done"}),),
             tells=(("You've dropped {course_code}.", "Bạn đã hủy đăng ký môn {course_code}."),),
             facts=("course_code",)),
    ),
    unserved=(("Pay my tuition for {semester}.", "Đóng học phí {semester} cho tôi."),
              ("Request a regrade for {course}.", "Xin phúc khảo điểm môn {course}."),
              ("Book a meeting with my {course} lecturer.", "Đặt lịch gặp giảng viên môn {course}.")),
)

# --- library ----------------------------------------------------------------------------------------------------------

BOOKS = words(("Diary of a Cricket", "Dế Mèn phiêu lưu ký"), ("The Sorrow of War", "Nỗi buồn chiến tranh"),
              ("Dumb Luck", "Số đỏ"), ("Dreamy Eyes", "Mắt biếc"), ("Norwegian Wood", "Rừng Na Uy"),
              ("The Little Prince", "Hoàng tử bé"), ("Sapiens", "Sapiens"), ("Clean Code", "Clean Code"),
              ("Atomic Habits", "Atomic Habits"))  # a request says the title its reader knows the book by
AUTHOR_TITLES = {"Haruki Murakami": ("Kafka on the Shore", "Kafka bên bờ biển"), "Nguyễn Nhật Ánh": ("Dreamy Eyes",
                                                                                                     "Mắt biếc"),
                 "Tô Hoài": ("Diary of a Cricket", "Dế Mèn phiêu lưu ký"),
                 "Yuval Noah Harari": ("Sapiens", "Sapiens: Lược sử loài người"),
                 "Agatha Christie": ("Murder on the Orient Express", "Án mạng trên chuyến tàu tốc hành phương Đông"),
                 "Nam Cao": ("Chi Pheo", "Chí Phèo"), "Vũ Trọng Phụng": ("Dumb Luck", "Số đỏ")}


def _title_by(rng: random.Random, args: Mapping[str, Value]) -> Value:
    return Value(*AUTHOR_TITLES[args["query"].en])


LIBRARY = Domain(
    name="library",
    tools=(
        tool("search_library_catalog", "Searches the public library's catalogue by title, "
             "author or subject: ids and copies.", ("query",), query=string("Title, author or subject."),
             available_only=boolean("True to list only books on the shelf now.")),
        tool("borrow_library_book", "Borrows a library book for the user, by its id.",
             book_id=string("The book's id, as search_library_catalog returns it.")),
        tool("list_library_loans", "The user's current library loans with their ids and due dates, soonest first."),
        tool("renew_library_loan", "Extends a library loan, by default by two weeks.", ("loan_id",),
             loan_id=string("The loan's id, as list_library_loans returns it."),
             weeks=integer("How many weeks to extend by.", minimum=1, maximum=3)),
    ),
    slots={"book": BOOKS, "author": same(*AUTHOR_TITLES), "book_id": digits(6, "BK"),
           "loan": digits(5, "LN-"), "weeks": ints(2, 3), "copies": ints(3, 6), "available": ints(0, 3),
           "count": ints(2, 5), "date": dates()},
    tasks=(
        Task(asks=(("Does the library have {book}?", "Thư viện có cuốn {book} không?"),
                   ("Search the library catalogue for {book}.", "Tìm cuốn {book} trong thư viện.")),
             many=(("Does the library have {items}?", "Thư viện có các cuốn {items} không?"),),
             vary="book",
             steps=(Step("search_library_catalog", {"query": "book"},
                         {"query": "=query", "copies": "copies", "available_copies": "available"}),),
             tells=(("The library has {copies} copies of {query}, with {available_copies} on the shelf now.",
                     "Thư viện có {copies} cuốn {query}, hiện còn {available_copies} cuốn trên kệ."),),
             facts=("copies", "available_copies")),
        Task(asks=(("Find books by {author} that I can borrow now.", "Tìm sách của {author} hiện còn để mượn."),
                   ("Which {author} books are available right now?", "Sách nào của {author} đang có sẵn để mượn?")),
             slots={"available_only": const(True, "available", "có sẵn")},
             steps=(Step("search_library_catalog", {"query": "author", "available_only": "available_only"},
                         {"query": "=query", "available_titles": "count", "first_title": Computed(_title_by)}),),
             tells=(("{available_titles} books by {query} are available, for example {first_title}.",
                     "Có {available_titles} cuốn của {query} đang có sẵn, ví dụ {first_title}."),),
             facts=("available_titles", "first_title")),
        Task(asks=(("Borrow {book} for me.", "Mượn giúp tôi cuốn {book}."),
                   ("I'd like to check out {book} from the library.", "Tôi muốn mượn cuốn {book} ở thư viện.")),
             steps=(Step("search_library_catalog", {"query": "book"}, {"book_id": "book_id", "title": "=query"}),
                    Step("borrow_library_book", {"book_id": "@book_id"}, {"book_id": "=book_id", "due_date": "date"})),
             tells=(("You've borrowed {book}; it's due back on {due_date}.",
                     "Bạn đã mượn cuốn {book}, hạn trả là {due_date}."),),
             facts=("due_date",)),
        Task(asks=(("When are my library books due?", "Sách tôi mượn thư viện khi nào phải trả?"),
                   ("What have I got out from the library?", "Tôi đang mượn những sách gì ở thư viện?")),
             steps=(Step("list_library_loans", {},
                         {"loan_count": "count", "next_due_title": "book", "next_due_date": "date"}),),
             tells=(("You have {loan_count} books out; {next_due_title} is due first, on {next_due_date}.",
                     "Bạn đang mượn {loan_count} cuốn, "
                     "cuốn {next_due_title} đến hạn trả sớm nhất, ngày {next_due_date}."),),
             facts=("next_due_title", "next_due_date")),
        Task(asks=(("Renew the library book that's due soonest.", "Gia hạn cuốn sách thư viện sắp đến hạn trả nhất."),
                   ("Extend my next library loan to come due.", "Gia hạn lượt mượn sách sắp hết hạn nhất của tôi.")),
             steps=(Step("list_library_loans", {}, {"next_due_loan_id": "loan", "next_due_title": "book"}),
                    Step("renew_library_loan", {"loan_id": "@next_due_loan_id"},
                         {"loan_id": "=loan_id", "new_due_date": "date"})),
             tells=(("Renewed; it's now due {new_due_date}.", "Đã gia hạn, hạn trả mới là {new_due_date}."),),
             facts=("new_due_date",)),
        Task(asks=(("Renew loan {loan} for {weeks} weeks.", "Gia hạn lượt mượn {loan} thêm {weeks} tuần."),),
             steps=(Step("renew_library_loan", {"loan_id": "loan", "weeks": "weeks"},
                         {"loan_id": "=loan_id", "new_due_date": "date"}),),
             tells=(("Loan {loan_id} is renewed until {new_due_date}.",
                     "Lượt mượn {loan_id} đã được gia hạn đến {new_due_date}."),),
             facts=("new_due_date",)),
    ),
    unserved=(("Pay my overdue fine at the library.", "Thanh toán tiền phạt trả sách muộn ở thư viện."),
              ("Reserve a study room at the library for tomorrow.", "Đặt phòng tự học ở thư viện cho ngày mai."),
              ("Download {book} as an e-book.", "Tải cuốn {book} dưới dạng sách điện tử.")),
)

# --- IT helpdesk ------------------------------------------------------------------------------------------------------

PROBLEMS = words(("my laptop won't turn on", "laptop của tôi không bật lên được"),
                 ("I can't connect to the office Wi-Fi", "tôi không kết nối được Wi-Fi văn phòng"),
                 ("Outlook keeps crashing", "Outlook liên tục bị treo"),
                 ("I'm locked out of my VPN account", "tài khoản VPN của tôi bị khóa"),
                 ("the printer on floor 3 is jammed", "máy in tầng 3 bị kẹt giấy"),
                 ("my second monitor shows no signal", "màn hình phụ của tôi báo không có tín hiệu"))
URGENCY = {"low": ("low", "thấp"), "normal": ("normal", "bình thường"), "urgent": ("urgent", "khẩn cấp")}
TICKET_STATES = words(("open", "đang mở"), ("in progress", "đang được xử lý"),
                      ("waiting for your reply", "đang chờ bạn phản hồi"), ("resolved", "đã được giải quyết"))
COMMENTS = words(("It happens every morning", "Lỗi xảy ra mỗi sáng"),
                 ("I already restarted the laptop", "Tôi đã khởi động lại máy rồi"),
                 ("I'm free after 3 pm today", "Hôm nay tôi rảnh sau 3 giờ chiều"),
                 ("The problem is back again", "Lỗi lại xuất hiện rồi"))

SUPPORT = Domain(
    name="support_tickets",
    tools=(
        tool("create_support_ticket", "Opens an IT helpdesk ticket describing a problem.", ("summary",),
             summary=string("The problem, in a sentence."), urgency=choice("How urgent it is.", URGENCY)),
        tool("get_support_ticket_status", "Status and assignee of an IT helpdesk ticket.",
             ticket_id=string("The ticket's id, e.g. IT-40213.")),
        tool("add_support_ticket_comment", "Adds a comment to an IT helpdesk ticket.",
             ticket_id=string("The ticket's id."), comment=string("The comment.")),
        tool("list_my_support_tickets", "The user's IT helpdesk tickets, newest first: ids and summaries only.",
             limit=integer("How many tickets to return.", minimum=1, maximum=20)),
    ),
    slots={"problem": PROBLEMS, "urgency": coded(**URGENCY), "ticket": digits(5, "IT-"), "state": TICKET_STATES,
           "assignee": PEOPLE, "comment": COMMENTS, "one": const(1, "latest", "mới nhất"), "done": DONE},
    tasks=(
        Task(asks=(("Open an IT ticket: {problem}.", "Tạo phiếu hỗ trợ IT: {problem}."),
                   ("Log a helpdesk ticket saying {problem}.", "Gửi yêu cầu hỗ trợ cho bộ phận IT: {problem}."),
                   ("Hi IT, {problem}. Please open a ticket for me.",
                    "Chào bộ phận IT, {problem}, tạo giúp tôi một phiếu hỗ trợ nhé.")),
             steps=(Step("create_support_ticket", {"summary": "problem"},
                         {"ticket_id": "ticket", "summary": "=summary"}),),
             tells=(("Ticket {ticket_id} is open; IT will get back to you.",
                     "Đã tạo phiếu {ticket_id}, bộ phận IT sẽ liên hệ lại với bạn."),),
             facts=("ticket_id",)),
        Task(asks=(("Create an IT ticket, priority {urgency}: {problem}.",
                    "Tạo phiếu hỗ trợ IT, mức ưu tiên {urgency}: {problem}."),
                   ("File a helpdesk ticket with {urgency} urgency: {problem}.",
                    "Gửi yêu cầu hỗ trợ IT với mức độ {urgency}: {problem}.")),
             steps=(Step("create_support_ticket", {"summary": "problem", "urgency": "urgency"},
                         {"ticket_id": "ticket", "urgency": "=urgency"}),),
             tells=(("Ticket {ticket_id} is open with {urgency} priority.",
                     "Đã tạo phiếu {ticket_id} với mức ưu tiên {urgency}."),),
             facts=("ticket_id",)),
        Task(asks=(("What's the status of ticket {ticket}?", "Phiếu {ticket} đang ở trạng thái nào?"),
                   ("Any update on {ticket}?", "Phiếu {ticket} có cập nhật gì chưa?")),
             many=(("Check the status of tickets {items}.", "Kiểm tra trạng thái các phiếu {items}."),),
             vary="ticket",
             steps=(Step("get_support_ticket_status", {"ticket_id": "ticket"},
                         {"ticket_id": "=ticket_id", "status": "state", "assignee": "assignee"}),),
             tells=(("Ticket {ticket_id} is {status}, assigned to {assignee}.",
                     "Phiếu {ticket_id} {status}, người phụ trách là {assignee}."),),
             facts=("status", "assignee")),
        Task(asks=(('Add a comment to ticket {ticket}: "{comment}".',
                    'Thêm bình luận vào phiếu {ticket}: "{comment}".'),
                   ('Tell IT on {ticket} that "{comment}".', 'Ghi vào phiếu {ticket} cho bên IT: "{comment}".')),
             steps=(Step("add_support_ticket_comment", {"ticket_id": "ticket", "comment": "comment"},
                         {"ticket_id": "=ticket_id", "comment_added": "done"}),),
             tells=(("Your comment is on ticket {ticket_id}.", "Đã thêm bình luận vào phiếu {ticket_id}."),),
             facts=("ticket_id",)),
        Task(asks=(('Add to my latest IT ticket: "{comment}".',
                    'Ghi thêm vào phiếu hỗ trợ IT mới nhất của tôi: "{comment}".'),),
             steps=(Step("list_my_support_tickets", {"limit": "one"},
                         {"latest_ticket_id": "ticket", "latest_summary": "problem"}),
                    Step("add_support_ticket_comment", {"ticket_id": "@latest_ticket_id", "comment": "comment"},
                         {"ticket_id": "=ticket_id", "comment_added": "done"})),
             tells=(("Your comment is on ticket {ticket_id}.", "Đã thêm bình luận vào phiếu {ticket_id}."),),
             facts=("ticket_id",)),
        Task(asks=(("What's happening with my most recent IT ticket?", "Phiếu hỗ trợ IT gần nhất của tôi thế nào rồi?"),
                   ("Is my latest helpdesk ticket resolved yet?", "Phiếu hỗ trợ mới nhất của tôi đã được xử lý chưa?")),
             steps=(Step("list_my_support_tickets", {"limit": "one"},
                         {"latest_ticket_id": "ticket", "latest_summary": "problem"}),
                    Step("get_support_ticket_status", {"ticket_id": "@latest_ticket_id"},
                         {"ticket_id": "=ticket_id", "status": "state", "assignee": "assignee"})),
             tells=(("Ticket {ticket_id} is {status}, assigned to {assignee}.",
                     "Phiếu {ticket_id} {status}, người phụ trách là {assignee}."),),
             facts=("status",)),
    ),
    unserved=(("Close ticket {ticket}, it's fixed now.", "Đóng phiếu {ticket} giúp tôi, lỗi đã được khắc phục."),
              ("Raise the priority of ticket {ticket} to urgent.", "Nâng mức ưu tiên của phiếu {ticket} lên khẩn cấp."),
              ("Have someone from IT phone me about ticket {ticket}.",
               "Nhờ bên IT gọi điện cho tôi về phiếu {ticket}.")),
)

# --- translation ------------------------------------------------------------------------------------------------------

LANGUAGE_NAMES = {"en": ("English", "tiếng Anh"), "vi": ("Vietnamese", "tiếng Việt"), "ja": ("Japanese", "tiếng Nhật"),
                  "ko": ("Korean", "tiếng Hàn"), "zh": ("Chinese", "tiếng Trung"), "fr": ("French", "tiếng Pháp"),
                  "es": ("Spanish", "tiếng Tây Ban Nha"), "de": ("German", "tiếng Đức")}
FOREIGN = ("ja", "ko", "zh", "fr", "es", "de")
# English request text -> its translations; the Vietnamese request says the same sentence.
PHRASES: dict[tuple[str, str], dict[str, str]] = {
    ("Thank you very much", "Cảm ơn bạn rất nhiều"): {
        "ja": "どうもありがとうございます", "ko": "정말 감사합니다", "zh": "非常感谢", "fr": "Merci beaucoup",
        "es": "Muchas gracias", "de": "Vielen Dank"},
    ("Where is the train station?", "Ga tàu ở đâu?"): {
        "ja": "駅はどこですか？", "ko": "기차역이 어디에 있어요?", "zh": "火车站在哪里？", "fr": "Où est la gare ?",
        "es": "¿Dónde está la estación de tren?", "de": "Wo ist der Bahnhof?"},
    ("How much does this cost?", "Cái này giá bao nhiêu?"): {
        "ja": "これはいくらですか？", "ko": "이거 얼마예요?", "zh": "这个多少钱？", "fr": "Combien ça coûte ?",
        "es": "¿Cuánto cuesta esto?", "de": "Wie viel kostet das?"},
    ("Nice to meet you", "Rất vui được gặp bạn"): {
        "ja": "はじめまして", "ko": "만나서 반갑습니다", "zh": "很高兴认识你", "fr": "Enchanté de vous rencontrer",
        "es": "Encantado de conocerte", "de": "Freut mich, Sie kennenzulernen"},
    ("I am allergic to peanuts", "Tôi bị dị ứng đậu phộng"): {
        "ja": "ピーナッツアレルギーがあります", "ko": "저는 땅콩 알레르기가 있어요", "zh": "我对花生过敏",
        "fr": "Je suis allergique aux arachides", "es": "Soy alérgico al cacahuete",
        "de": "Ich bin allergisch gegen Erdnüsse"},
    ("The meeting starts at nine", "Cuộc họp bắt đầu lúc chín giờ"): {
        "ja": "会議は9時に始まります", "ko": "회의는 9시에 시작합니다", "zh": "会议九点开始",
        "fr": "La réunion commence à neuf heures", "es": "La reunión empieza a las nueve",
        "de": "Die Besprechung beginnt um neun Uhr"},
}
# Foreign text -> its language and its English and Vietnamese translations.
FOREIGN_TEXTS: dict[str, tuple[str, str, str]] = {
    "Bonne nuit": ("fr", "Good night", "Chúc ngủ ngon"),
    "Je voudrais un café": ("fr", "I would like a coffee", "Tôi muốn một ly cà phê"),
    "Où sont les toilettes ?": ("fr", "Where is the restroom?", "Nhà vệ sinh ở đâu?"),
    "À demain": ("fr", "See you tomorrow", "Hẹn gặp lại ngày mai"),
    "おはようございます": ("ja", "Good morning", "Chào buổi sáng"),
    "감사합니다": ("ko", "Thank you", "Cảm ơn"),
    "¿Qué hora es?": ("es", "What time is it?", "Mấy giờ rồi?"),
    "Guten Appetit": ("de", "Enjoy your meal", "Chúc ngon miệng"),
    "你好吗？": ("zh", "How are you?", "Bạn khỏe không?"),
}
FRENCH_TEXTS = tuple(t for t, (code, _, _) in FOREIGN_TEXTS.items() if code == "fr")


def _translation(rng: random.Random, args: Mapping[str, Value]) -> Value:
    text, target = args["text"], args["target_language"].arg
    if text.en in FOREIGN_TEXTS:
        _, english, vietnamese = FOREIGN_TEXTS[text.en]
        said = {"en": english, "vi": vietnamese}[target]
    else:
        said = PHRASES[(text.en, text.vi)][target]
    return Value(said, said)


def _detected(rng: random.Random, args: Mapping[str, Value]) -> Value:
    code = FOREIGN_TEXTS[args["text"].en][0]
    return Value(*LANGUAGE_NAMES[code], arg=code)


TRANSLATION = Domain(
    name="translation",
    tools=(
        tool("translate_text", "Translates text into another language and returns only the translation.",
             ("text", "target_language"), text=string("The text to translate."),
             target_language=choice("Language to translate into.", LANGUAGE_NAMES),
             source_language=choice("Language of the text, if known.", LANGUAGE_NAMES)),
        tool("detect_language", "Tells which language a text is written in.", text=string("The text.")),
    ),
    slots={"phrase": words(*PHRASES), "target": coded(**{c: LANGUAGE_NAMES[c] for c in FOREIGN}),
           "foreign": same(*FOREIGN_TEXTS), "home": coded(en=LANGUAGE_NAMES["en"], vi=LANGUAGE_NAMES["vi"]),
           "french": same(*FRENCH_TEXTS), "source": coded(fr=LANGUAGE_NAMES["fr"]), "unknown": same(*FOREIGN_TEXTS),
           "confidence": figures(0.93, 0.97, 0.99)},
    tasks=(
        Task(asks=(('Translate "{phrase}" into {target}.', 'Dịch câu "{phrase}" sang {target}.'),
                   ('How do you say "{phrase}" in {target}?', '"{phrase}" trong {target} nói thế nào?'),
                   ('I need "{phrase}" in {target}, please.', 'Dịch giúp tôi "{phrase}" sang {target} nhé.')),
             many=(('Translate "{phrase}" into {items}.', 'Dịch "{phrase}" sang {items}.'),),
             vary="target",
             steps=(Step("translate_text", {"text": "phrase", "target_language": "target"},
                         {"target_language": "=target_language", "translation": Computed(_translation)}),),
             tells=(('In {target_language} that is "{translation}".',
                     'Dịch sang {target_language}: "{translation}".'),),
             facts=("translation",)),
        Task(asks=(('What does "{foreign}" mean in {home}?',
                    'Câu "{foreign}" có nghĩa là gì trong {home}? Dịch giúp tôi với.'),
                   ('Translate "{foreign}" into {home}.', 'Dịch "{foreign}" sang {home} giúp tôi.')),
             steps=(Step("translate_text", {"text": "foreign", "target_language": "home"},
                         {"target_language": "=target_language", "translation": Computed(_translation)}),),
             tells=(('It means "{translation}".', 'Câu đó nghĩa là "{translation}".'),),
             facts=("translation",)),
        Task(asks=(('Translate this {source} sentence into {home}: "{french}".',
                    'Dịch câu {source} này sang {home}: "{french}".'),),
             steps=(Step("translate_text", {"text": "french", "target_language": "home", "source_language": "source"},
                         {"target_language": "=target_language", "translation": Computed(_translation)}),),
             tells=(('In {target_language}: "{translation}".', 'Dịch sang {target_language}: "{translation}".'),),
             facts=("translation",)),
        Task(asks=(('What language is "{unknown}"?', 'Bạn có biết "{unknown}" là tiếng nước nào không?'),
                   ('Which language is this written in: "{unknown}"?', 'Câu "{unknown}" được viết bằng ngôn ngữ nào?')),
             steps=(Step("detect_language", {"text": "unknown"},
                         {"language": Computed(_detected), "confidence": "confidence"}),),
             tells=(("That's {language}.", "Đó là {language}."),),
             facts=("language",)),
    ),
    unserved=(('Read "{phrase}" aloud in {target}.', 'Đọc to câu "{phrase}" bằng {target}.'),
              ('Translate "{phrase}" into Klingon.', 'Dịch "{phrase}" sang tiếng Klingon.'),
              ("Translate this photo of a menu into {target}.", "Dịch ảnh chụp thực đơn này sang {target}.")),
)

# --- unit conversion --------------------------------------------------------------------------------------------------

LENGTH = {"mm": ("millimetres", "mi-li-mét"), "cm": ("centimetres", "xăng-ti-mét"), "m": ("metres", "mét"),
          "km": ("kilometres", "ki-lô-mét"), "in": ("inches", "inch"), "ft": ("feet", "feet"), "yd": ("yards", "yard"),
          "mi": ("miles", "dặm")}
WEIGHT = {"g": ("grams", "gam"), "kg": ("kilograms", "ki-lô-gam"), "t": ("tonnes", "tấn"), "oz": ("ounces", "ounce"),
          "lb": ("pounds", "pound")}
TEMPERATURE = {"celsius": ("degrees Celsius", "độ C"), "fahrenheit": ("degrees Fahrenheit", "độ F"),
               "kelvin": ("kelvin", "độ K")}
VOLUME = {"ml": ("millilitres", "mi-li-lít"), "l": ("litres", "lít"), "gal": ("US gallons", "gallon Mỹ"),
          "cup": ("US cups", "cốc (chuẩn Mỹ)"), "fl_oz": ("US fluid ounces", "ounce chất lỏng Mỹ")}
FACTORS = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048, "yd": 0.9144, "mi": 1609.344,
           "g": 1.0, "kg": 1000.0, "t": 1e6, "oz": 28.349523125, "lb": 453.59237,
           "ml": 1.0, "l": 1000.0, "gal": 3785.411784, "cup": 236.5882365, "fl_oz": 29.5735295625}


def _to_kelvin(value: float, unit: str) -> float:
    return {"celsius": value + 273.15, "fahrenheit": (value - 32) * 5 / 9 + 273.15, "kelvin": value}[unit]


def _unit_result(rng: random.Random, args: Mapping[str, Value]) -> Value:
    value, source, target = args["value"].arg, args["from_unit"].arg, args["to_unit"].arg
    if source in TEMPERATURE:
        kelvin = _to_kelvin(value, source)
        result = {"celsius": kelvin - 273.15, "fahrenheit": (kelvin - 273.15) * 9 / 5 + 32, "kelvin": kelvin}[target]
    else:
        result = value * FACTORS[source] / FACTORS[target]
    return _figure(_rounded(result))


def _units(table: dict[str, Phrase], *codes: str) -> Pool:
    return coded(**{c: table[c] for c in codes})


def _converter(name: str, what: str, table: dict[str, Phrase]) -> dict[str, Any]:
    return tool(name, f"Converts a {what} from one unit to another.", value=number(f"The {what} to convert."),
                from_unit=choice("Unit of the value.", table), to_unit=choice("Unit to convert into.", table))


def _conversion(asks: tuple[Phrase, ...], name: str, sources: Pool, targets: Pool, *, values: Pool | None = None,
                many: tuple[Phrase, ...] = ()) -> Task:
    slots = {"unit_from": sources, "unit_to": targets}
    if values is not None:
        slots["value"] = values
    return Task(asks=asks, many=many, vary="unit_to" if many else "", slots=slots,
                steps=(Step(name, {"value": "value", "from_unit": "unit_from", "to_unit": "unit_to"},
                            {"value": "=value", "from_unit": "=from_unit", "to_unit": "=to_unit",
                             "result": Computed(_unit_result)}),),
                tells=(("{value} {from_unit} is {result} {to_unit}.", "{value} {from_unit} bằng {result} {to_unit}."),),
                facts=("result",))


UNIT_CONVERSION = Domain(
    name="unit_conversion",
    tools=(_converter("convert_length", "length", LENGTH), _converter("convert_weight", "weight", WEIGHT),
           _converter("convert_temperature", "temperature", TEMPERATURE),
           _converter("convert_volume", "volume", VOLUME)),
    slots={"value": nums(2.5, 5, 10, 42.2, 100, 250), "unit_from": coded(**LENGTH), "unit_to": coded(**LENGTH)},
    tasks=(
        _conversion((("How many {unit_to} is {value} {unit_from}?",
                      "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?"),
                     ("Convert {value} {unit_from} to {unit_to}.",
                      "Cho tôi hỏi {value} {unit_from} đổi ra {unit_to} thì được bao nhiêu?")),
                    "convert_length", _units(LENGTH, "km", "m", "cm"), _units(LENGTH, "mi", "yd", "ft", "in"),
                    many=(("Convert {value} {unit_from} into {items}.",
                          "Cho tôi hỏi {value} {unit_from} đổi ra {items} thì được bao nhiêu?"),)),
        _conversion((("How many {unit_to} are there in {value} {unit_from}?",
                      "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?"),
                     ("I have {value} {unit_from}; what's that in {unit_to}?",
                      "Tôi có {value} {unit_from}, đổi ra {unit_to} thì được bao nhiêu?")),
                    "convert_length", _units(LENGTH, "mi", "yd", "ft", "in"), _units(LENGTH, "km", "m", "cm", "mm")),
        _conversion((("How much is {value} {unit_from} in {unit_to}?",
                      "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?"),
                     ("Convert {value} {unit_from} to {unit_to}.",
                      "{value} {unit_from} tương đương với bao nhiêu {unit_to}?")),
                    "convert_weight", _units(WEIGHT, "kg", "g", "t"), _units(WEIGHT, "lb", "oz"),
                    many=(("Convert {value} {unit_from} into {items}.",
                           "{value} {unit_from} tương đương với bao nhiêu {items}?"),)),
        _conversion((("What's {value} {unit_from} in {unit_to}?", "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?"),
                     ("Convert {value} {unit_from} to {unit_to}.",
                      "Cho tôi hỏi {value} {unit_from} đổi ra {unit_to} thì được bao nhiêu?")),
                    "convert_temperature", _units(TEMPERATURE, "celsius"), _units(TEMPERATURE, "fahrenheit", "kelvin"),
                    values=nums(-10, 0, 25, 36.6, 100, 180),
                    many=(("Convert {value} {unit_from} to {items}.", "Đổi {value} {unit_from} sang {items}."),)),
        _conversion((("My oven recipe says {value} {unit_from}. What is that in {unit_to}?",
                      "Công thức nướng bánh ghi {value} {unit_from}, vậy là bao nhiêu {unit_to}?"),
                     ("What's {value} {unit_from} in {unit_to}?", "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?")),
                    "convert_temperature", _units(TEMPERATURE, "fahrenheit"), _units(TEMPERATURE, "celsius"),
                    values=nums(212, 320, 350, 375, 400, 425)),
        _conversion((("How many {unit_to} is {value} {unit_from}?",
                      "{value} {unit_from} bằng bao nhiêu {unit_to} vậy?"),
                     ("Convert {value} {unit_from} to {unit_to}, please.",
                      "Đổi giúp tôi {value} {unit_from} sang {unit_to}.")),
                    "convert_volume", _units(VOLUME, "l", "ml"), _units(VOLUME, "gal", "cup", "fl_oz")),
    ),
    unserved=(("Convert {value} knots to kilometres per hour.", "Đổi {value} hải lý/giờ sang km/giờ."),
              ("How many square metres is {value} acres?", "{value} mẫu Anh bằng bao nhiêu mét vuông?"),
              ("Convert {value} megabytes to gigabytes.", "Đổi {value} MB sang GB.")),
)

# --- geometry ---------------------------------------------------------------------------------------------------------

AREA_SHAPES = {"circle": ("circle", "hình tròn"), "rectangle": ("rectangle", "hình chữ nhật"),
               "triangle": ("triangle", "hình tam giác")}
PERIMETER_SHAPES = {"circle": ("circle", "hình tròn"), "rectangle": ("rectangle", "hình chữ nhật"),
                    "square": ("square", "hình vuông")}
SOLIDS = {"sphere": ("sphere", "hình cầu"), "cylinder": ("cylinder", "hình trụ"), "cone": ("cone", "hình nón"),
          "box": ("box", "hình hộp chữ nhật")}


def _geometry(kind: str) -> Computed:
    """The call's area, perimeter or volume, from its shape and dimensions (arguments named as the dimensions)."""
    def measure(rng: random.Random, args: Mapping[str, Value]) -> Value:
        def dim(name: str) -> float:
            return args[name].arg
        shape = args["shape"].arg
        if kind == "area":
            result = {"circle": lambda: math.pi * dim("radius") ** 2,
                      "rectangle": lambda: dim("length") * dim("width"),
                      "triangle": lambda: dim("base") * dim("height") / 2}[shape]()
        elif kind == "perimeter":
            result = {"circle": lambda: 2 * math.pi * dim("radius"),
                      "rectangle": lambda: 2 * (dim("length") + dim("width")),
                      "square": lambda: 4 * dim("length")}[shape]()
        else:
            result = {"sphere": lambda: 4 / 3 * math.pi * dim("radius") ** 3,
                      "cylinder": lambda: math.pi * dim("radius") ** 2 * dim("height"),
                      "cone": lambda: math.pi * dim("radius") ** 2 * dim("height") / 3,
                      "box": lambda: dim("length") * dim("width") * dim("height")}[shape]()
        return _figure(_rounded(result))
    return Computed(measure)


def _shape(code: str, table: dict[str, Phrase]) -> Pool:
    return const(code, *table[code])


def _dims(**dims: str) -> dict[str, dict[str, Any]]:
    return {name: number(text, exclusiveMinimum=0) for name, text in dims.items()}


GEOMETRY = Domain(
    name="geometry",
    tools=(
        tool("calculate_area", "Area of a flat shape from its dimensions (all in one unit; the area is in that unit "
             "squared). A circle needs radius, a rectangle length and width, a triangle base and height.", ("shape",),
             shape=choice("The shape.", AREA_SHAPES),
             **_dims(radius="Radius.", length="Length.", width="Width.", base="Base.", height="Height.")),
        tool("calculate_perimeter", "Perimeter (circumference) of a flat shape: a circle needs radius, a rectangle "
             "length and width, a square its side as length.", ("shape",),
             shape=choice("The shape.", PERIMETER_SHAPES),
             **_dims(radius="Radius.", length="Length or side.", width="Width.")),
        tool("calculate_volume", "Volume of a solid from its dimensions: a sphere needs radius, a cylinder or cone "
             "radius and height, a box length, width and height.", ("shape",),
             shape=choice("The solid.", SOLIDS),
             **_dims(radius="Radius.", height="Height.", length="Length.", width="Width.")),
    ),
    slots={"radius": nums(2, 3.5, 4, 7.5, 10, 12), "length": nums(3, 4.5, 6, 8, 12.5, 20),
           "width": nums(2.5, 3, 4, 5.5, 10), "base": nums(4, 6.5, 9, 12), "height": nums(3, 5, 7.5, 10, 15)},
    tasks=(
        Task(asks=(("What's the area of a {shape} with a radius of {radius} cm?",
                    "Cho tôi biết diện tích của một {shape} có bán kính {radius} cm."),
                   ("Calculate the area of a {shape} whose radius is {radius} cm.",
                    "Một {shape} có bán kính {radius} cm thì diện tích bằng bao nhiêu vậy?")),
             many=(("Find the area of a {shape} for each of these radii: {items} cm.",
                    "Tính diện tích {shape} với bán kính lần lượt là {items} cm."),),
             vary="radius",
             slots={"shape": _shape("circle", AREA_SHAPES)},
             steps=(Step("calculate_area", {"shape": "shape", "radius": "radius"},
                         {"shape": "=shape", "area": _geometry("area")}),),
             tells=(("A {shape} with radius {radius} cm has an area of {area} cm².",
                     "{shape} bán kính {radius} cm có diện tích {area} cm²."),),
             facts=("area",)),
        Task(asks=(("A room is {length} m long and {width} m wide. What's its floor area?",
                    "Căn phòng dài {length} m, rộng {width} m. Diện tích sàn là bao nhiêu?"),
                   ("What's the area of a {shape} {length} m by {width} m?",
                    "Diện tích {shape} {length} m x {width} m là bao nhiêu?")),
             slots={"shape": _shape("rectangle", AREA_SHAPES)},
             steps=(Step("calculate_area", {"shape": "shape", "length": "length", "width": "width"},
                         {"shape": "=shape", "area": _geometry("area")}),),
             tells=(("That's {area} m².", "Diện tích là {area} m²."),),
             facts=("area",)),
        Task(asks=(("What's the area of a {shape} with base {base} cm and height {height} cm?",
                    "Cho tôi biết diện tích của {shape} có cạnh đáy {base} cm và chiều cao {height} cm."),),
             slots={"shape": _shape("triangle", AREA_SHAPES)},
             steps=(Step("calculate_area", {"shape": "shape", "base": "base", "height": "height"},
                         {"shape": "=shape", "area": _geometry("area")}),),
             tells=(("The triangle's area is {area} cm².", "Diện tích hình tam giác là {area} cm²."),),
             facts=("area",)),
        Task(asks=(("How much fencing do I need around a garden {length} m by {width} m?",
                    "Tôi cần bao nhiêu mét hàng rào để rào quanh mảnh vườn {length} m x {width} m?"),
                   ("What's the perimeter of a {shape} {length} m long and {width} m wide?",
                    "Chu vi {shape} dài {length} m, rộng {width} m là bao nhiêu?")),
             slots={"shape": _shape("rectangle", PERIMETER_SHAPES)},
             steps=(Step("calculate_perimeter", {"shape": "shape", "length": "length", "width": "width"},
                         {"shape": "=shape", "perimeter": _geometry("perimeter")}),),
             tells=(("The perimeter is {perimeter} m.", "Chu vi là {perimeter} m."),),
             facts=("perimeter",)),
        Task(asks=(("What's the volume of a {shape} with radius {radius} cm and height {height} cm?",
                    "Thể tích {shape} bán kính {radius} cm, cao {height} cm là bao nhiêu?"),
                   ("How much does a cylindrical tank {height} cm tall with a {radius} cm radius hold?",
                    "Bồn hình trụ cao {height} cm, bán kính {radius} cm chứa được bao nhiêu?")),
             slots={"shape": _shape("cylinder", SOLIDS)},
             steps=(Step("calculate_volume", {"shape": "shape", "radius": "radius", "height": "height"},
                         {"shape": "=shape", "volume": _geometry("volume")}),),
             tells=(("The volume is {volume} cm³.", "Thể tích là {volume} cm³."),),
             facts=("volume",)),
        Task(asks=(("What's the volume of a {shape} with a radius of {radius} cm?",
                    "Thể tích {shape} bán kính {radius} cm là bao nhiêu?"),),
             many=(("Find the volume of a {shape} for each radius: {items} cm.",
                    "Tính thể tích {shape} với bán kính lần lượt là {items} cm."),),
             vary="radius",
             slots={"shape": _shape("sphere", SOLIDS)},
             steps=(Step("calculate_volume", {"shape": "shape", "radius": "radius"},
                         {"shape": "=shape", "volume": _geometry("volume")}),),
             tells=(("A {shape} with radius {radius} cm has a volume of {volume} cm³.",
                     "{shape} bán kính {radius} cm có thể tích {volume} cm³."),),
             facts=("volume",)),
    ),
    unserved=(("What's the area of a regular hexagon with sides of {length} cm?",
               "Diện tích lục giác đều cạnh {length} cm là bao nhiêu?"),
              ("Draw a circle with a radius of {radius} cm.", "Vẽ giúp tôi một hình tròn bán kính {radius} cm."),
              ("What's the surface area of a sphere with radius {radius} cm?",
               "Diện tích mặt cầu bán kính {radius} cm là bao nhiêu?")),
)

# --- statistics -------------------------------------------------------------------------------------------------------

NUMBERS = {"type": "array", "items": {"type": "number"}, "minItems": 1, "description": "The numbers."}
READINGS = number_lists(18, 35, decimals=1, sizes=(4, 6))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _stat(kind: str) -> Computed:
    def measure(rng: random.Random, args: Mapping[str, Value]) -> Value:
        values = args["numbers"].arg
        if kind == "mean":
            result = statistics.fmean(values)
        elif kind == "median":
            result = statistics.median(values)
        elif kind == "percentile":
            result = _percentile(values, args["percentile"].arg)
        else:
            result = statistics.stdev(values) if args["sample"].arg else statistics.pstdev(values)
        return _figure(_rounded(result))
    return Computed(measure)


STATISTICS = Domain(
    name="statistics",
    tools=(
        tool("calculate_mean", "Arithmetic mean of a list of numbers.", numbers=NUMBERS),
        tool("calculate_median", "Median of a list of numbers.", numbers=NUMBERS),
        tool("calculate_standard_deviation", "Standard deviation of a list of numbers, "
             "of a sample (n - 1) or of a whole population (n).", numbers=NUMBERS,
             sample=boolean("True for the sample, false for the population.")),
        tool("calculate_percentile", "A percentile of a list of numbers (linear interpolation between ranks).",
             numbers=NUMBERS, percentile=number("Which percentile, 0-100.", minimum=0, maximum=100)),
    ),
    slots={"numbers": number_lists(55, 100)},
    tasks=(
        Task(asks=(("What's the average of {numbers}?", "Trung bình cộng của {numbers} là bao nhiêu?"),
                   ("My test scores are {numbers}. What's my mean score?",
                    "Điểm các bài kiểm tra của tôi là {numbers}. Điểm trung bình là bao nhiêu?")),
             steps=(Step("calculate_mean", {"numbers": "numbers"}, {"mean": _stat("mean")}),),
             tells=(("The mean is {mean}.", "Giá trị trung bình là {mean}."),),
             facts=("mean",)),
        Task(asks=(("This week's noon temperatures were {numbers} degrees. What was the average?",
                    "Nhiệt độ buổi trưa tuần này là {numbers} độ. Trung bình là bao nhiêu độ?"),
                   ("Average these readings for me: {numbers}.",
                    "Tính giúp tôi giá trị trung bình của các số đo: {numbers}.")),
             slots={"numbers": READINGS},
             steps=(Step("calculate_mean", {"numbers": "numbers"}, {"mean": _stat("mean")}),),
             tells=(("The average is {mean}.", "Giá trị trung bình là {mean}."),),
             facts=("mean",)),
        Task(asks=(("What's the median of {numbers}?", "Trung vị của {numbers} là bao nhiêu?"),
                   ("Find the median of these values: {numbers}.", "Tìm trung vị của dãy số sau: {numbers}.")),
             steps=(Step("calculate_median", {"numbers": "numbers"}, {"median": _stat("median")}),),
             tells=(("The median is {median}.", "Trung vị là {median}."),),
             facts=("median",)),
        Task(asks=(("Calculate the sample standard deviation of {numbers}.", "Tính độ lệch chuẩn mẫu của {numbers}."),
                   ("These are sample measurements: {numbers}. What's their standard deviation?",
                    "Đây là các số đo mẫu: {numbers}. Độ lệch chuẩn của chúng là bao nhiêu?")),
             slots={"sample": const(True, "sample", "mẫu"), "numbers": READINGS},
             steps=(Step("calculate_standard_deviation", {"numbers": "numbers", "sample": "sample"},
                         {"standard_deviation": _stat("stdev")}),),
             tells=(("The sample standard deviation is {standard_deviation}.",
                     "Độ lệch chuẩn mẫu là {standard_deviation}."),),
             facts=("standard_deviation",)),
        Task(asks=(("What's the population standard deviation of {numbers}?",
                    "Độ lệch chuẩn tổng thể của {numbers} là bao nhiêu?"),
                   ("Treat {numbers} as the whole population and give me the standard deviation.",
                    "Coi {numbers} là toàn bộ tổng thể, tính độ lệch chuẩn giúp tôi.")),
             slots={"sample": const(False, "population", "tổng thể")},
             steps=(Step("calculate_standard_deviation", {"numbers": "numbers", "sample": "sample"},
                         {"standard_deviation": _stat("stdev")}),),
             tells=(("The population standard deviation is {standard_deviation}.",
                     "Độ lệch chuẩn tổng thể là {standard_deviation}."),),
             facts=("standard_deviation",)),
        Task(asks=(("What's the {p}th percentile of {numbers}?", "Phân vị thứ {p} của {numbers} là bao nhiêu?"),
                   ("Find the {p}th percentile of these scores: {numbers}.",
                    "Tìm phân vị thứ {p} của các điểm số sau: {numbers}.")),
             slots={"p": nums(10, 25, 75, 90)},
             steps=(Step("calculate_percentile", {"numbers": "numbers", "percentile": "p"},
                         {"value": _stat("percentile")}),),
             tells=(("The {p}th percentile is {value}.", "Phân vị thứ {p} là {value}."),),
             facts=("value",)),
    ),
    unserved=(("Plot a histogram of {numbers}.", "Vẽ biểu đồ tần suất cho {numbers}."),
              ("What's the mode of {numbers}?", "Mốt của dãy {numbers} là bao nhiêu?"),
              ("Sort {numbers} from largest to smallest.", "Sắp xếp {numbers} từ lớn đến nhỏ.")),
)

# --- loans and interest -----------------------------------------------------------------------------------------------

COMPOUNDING = {"yearly": ("yearly", "hằng năm"), "quarterly": ("quarterly", "hằng quý"),
               "monthly": ("monthly", "hằng tháng"), "daily": ("daily", "hằng ngày")}
PERIODS = {"yearly": 1, "quarterly": 4, "monthly": 12, "daily": 365}


def _payment(principal: float, rate_percent: float, years: int) -> float:
    r, n = rate_percent / 1200, years * 12
    return principal / n if r == 0 else principal * r / (1 - (1 + r) ** -n)


def _loan(kind: str) -> Computed:
    """A loan figure from the call's arguments; compound interest is compounded as the call says (else yearly, the
    tool's default)."""
    def measure(rng: random.Random, args: Mapping[str, Value]) -> Value:
        rate, years = args["annual_rate_percent"].arg, args["years"].arg
        if kind in ("payment", "interest"):
            principal = args["principal"].arg
            pay = _payment(principal, rate, years)
            result = pay if kind == "payment" else pay * years * 12 - principal
        elif kind in ("final", "earned"):
            principal = args["principal"].arg
            m = PERIODS[args["compounding"].arg] if "compounding" in args else 1
            final = principal * (1 + rate / 100 / m) ** (m * years)
            result = final if kind == "final" else final - principal
        else:
            result = args["monthly_payment"].arg / _payment(1, rate, years)
        return _figure(round(result, 2))
    return Computed(measure)


LOANS = Domain(
    name="loans_finance",
    tools=(
        tool("calculate_loan_payment", "Monthly payment and total interest of a fixed-rate loan repaid monthly.",
             principal=number("Amount borrowed.", exclusiveMinimum=0),
             annual_rate_percent=number("Yearly interest rate in percent, e.g. 7.5.", minimum=0),
             years=integer("Loan term in years.", minimum=1, maximum=40)),
        tool("calculate_compound_interest", "What a deposit grows to with compound interest (compounded "
             "yearly unless told otherwise).", ("principal", "annual_rate_percent", "years"),
             principal=number("Amount invested.", exclusiveMinimum=0),
             annual_rate_percent=number("Yearly interest rate in percent.", minimum=0),
             years=integer("How many years.", minimum=1, maximum=50),
             compounding=choice("How often interest is added.", COMPOUNDING)),
        tool("calculate_max_loan", "The largest fixed-rate loan a monthly payment can repay over a term.",
             monthly_payment=number("What the borrower can pay each month.", exclusiveMinimum=0),
             annual_rate_percent=number("Yearly interest rate in percent.", minimum=0),
             years=integer("Loan term in years.", minimum=1, maximum=40)),
    ),
    slots={"principal": nums(8000, 15000, 25000, 120000, 250000, 400000), "rate": nums(3.5, 4.25, 6, 7.9, 9.5, 11),
           "years": nums(3, 5, 10, 15, 20, 25, 30), "payment": nums(300, 450, 800, 1200, 2500)},
    tasks=(
        Task(asks=(("What's the monthly payment on a {principal} USD loan at {rate}% for {years} years?",
                    "Vay {principal} USD với lãi suất {rate}%/năm trong {years} năm thì mỗi tháng trả bao nhiêu?"),
                   ("I'm borrowing {principal} USD over {years} years at {rate}% a year. "
                    "How much will I pay each month?",
                    "Tôi vay {principal} USD trong {years} năm, lãi {rate}% một năm. "
                    "Mỗi tháng tôi phải trả bao nhiêu?")),
             many=(("Compare the monthly payments on a {principal} USD loan at {rate}% over {items} years.",
                    "So sánh số tiền trả hằng tháng cho khoản vay {principal} USD, "
                    "lãi {rate}%, thời hạn {items} năm."),),
             vary="years",
             steps=(Step("calculate_loan_payment", {"principal": "principal", "annual_rate_percent": "rate",
                                                    "years": "years"},
                         {"monthly_payment": _loan("payment"), "total_interest": _loan("interest")}),),
             tells=(("Over {years} years you'd pay {monthly_payment} USD a month, "
                     "{total_interest} USD of interest in all.",
                     "Với thời hạn {years} năm, bạn trả {monthly_payment} USD mỗi tháng, "
                     "tổng tiền lãi {total_interest} USD."),),
             facts=("monthly_payment",)),
        Task(asks=(("If I invest {principal} USD at {rate}% a year for {years} years, how much will I have?",
                    "Nếu tôi gửi {principal} USD với lãi suất {rate}%/năm trong {years} năm "
                    "thì cuối kỳ được bao nhiêu?"),
                   ("How much does {principal} USD grow to in {years} years at {rate}% compound interest?",
                    "{principal} USD với lãi kép {rate}%/năm sau {years} năm sẽ thành bao nhiêu?")),
             slots={"principal": nums(1000, 5000, 10000, 20000, 50000)},
             steps=(Step("calculate_compound_interest", {"principal": "principal", "annual_rate_percent": "rate",
                                                         "years": "years"},
                         {"final_amount": _loan("final"), "interest_earned": _loan("earned")}),),
             tells=(("You'd have {final_amount} USD, {interest_earned} USD of it interest.",
                     "Bạn sẽ có {final_amount} USD, trong đó {interest_earned} USD là tiền lãi."),),
             facts=("final_amount",)),
        Task(asks=(("How much will {principal} USD grow to at {rate}% compounded {compounding} over {years} years?",
                    "{principal} USD với lãi suất {rate}%/năm, ghép lãi {compounding}, "
                    "sau {years} năm sẽ thành bao nhiêu?"),),
             many=(("Compare {principal} USD at {rate}% for {years} years, compounded {items}.",
                    "So sánh {principal} USD lãi {rate}%/năm sau {years} năm khi ghép lãi {items}."),),
             vary="compounding",
             slots={"principal": nums(1000, 5000, 10000, 20000, 50000),
                    "compounding": coded(**COMPOUNDING)},
             steps=(Step("calculate_compound_interest", {"principal": "principal", "annual_rate_percent": "rate",
                                                         "years": "years", "compounding": "compounding"},
                         {"compounding": "=compounding", "final_amount": _loan("final")}),),
             tells=(("Compounded {compounding}, you'd have {final_amount} USD.",
                     "Ghép lãi {compounding}, bạn sẽ có {final_amount} USD."),),
             facts=("final_amount",)),
        Task(asks=(("I can afford {payment} USD a month. How much can I borrow at {rate}% over {years} years?",
                    "Tôi trả được {payment} USD mỗi tháng. "
                    "Với lãi suất {rate}% trong {years} năm, tôi vay được tối đa bao nhiêu?"),),
             steps=(Step("calculate_max_loan", {"monthly_payment": "payment", "annual_rate_percent": "rate",
                                                "years": "years"},
                         {"max_principal": _loan("max")}),),
             tells=(("You could borrow up to {max_principal} USD.", "Bạn có thể vay tối đa {max_principal} USD."),),
             facts=("max_principal",)),
    ),
    unserved=(("Apply for a {principal} USD loan for me.", "Nộp hồ sơ vay {principal} USD giúp tôi."),
              ("What's today's mortgage rate at Vietcombank?",
               "Lãi suất vay mua nhà hôm nay của Vietcombank là bao nhiêu?"),
              ("Make this month's payment on my car loan.", "Thanh toán kỳ trả góp tháng này của khoản vay mua xe.")),
)

register(EMAIL, FILES, TODO, NOTES, HR_LEAVE, VEHICLE, IOT, CURRENCY, STOCKS, UTILITY_BILLS, COURSES, LIBRARY, SUPPORT,
         TRANSLATION, UNIT_CONVERSION, GEOMETRY, STATISTICS, LOANS)
