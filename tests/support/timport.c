/* tests/support/timport: synthetic household rows (see timport.h). Test code only. */
#include "tests/support/timport.h"
#include <stdio.h>
#include <string.h>

const char *const timport_header[TIMP__COLS] = {
    "Họ và tên chủ hộ",    "Số CCCD", "Số điện thoại",           "Ngày sinh",
    "Mã xã/phường",        "Địa chỉ", "Tên cơ sở/hộ kinh doanh", "Có tài khoản thanh toán điện tử",
    "Đồng ý xử lý dữ liệu"};

static const char *const family[] = {"Nguyễn", "Trần",  "Lê", "Phạm", "Hoàng", "Vũ",
                                     "Đặng",   "Bùi",   "Đỗ", "Hồ",   "Ngô",   "Dương",
                                     "Lý",     "Trịnh", "Lò", "Hà",   "Cầm",   "Mai"};
static const char *const middle[] = {"Văn",  "Thị",   "Hữu", "Đức",  "Minh", "Thanh",
                                     "Ngọc", "Quang", "Thu", "Xuân", "Hồng", "Công"};
static const char *const given[] = {
    "An",    "Bình",  "Cường", "Dũng", "Giang", "Hà",    "Hải",  "Hạnh", "Hiếu",  "Hoa",   "Hùng",
    "Hương", "Khánh", "Lan",   "Linh", "Long",  "Mai",   "Nam",  "Nga",  "Nhung", "Phong", "Phương",
    "Quân",  "Sơn",   "Tâm",   "Thảo", "Thắng", "Trang", "Tuấn", "Vân",  "Yến",   "Đạt"};
static const char *const prefixes[] = {"091", "094", "098", "097", "096", "086",
                                       "032", "033", "035", "038", "070", "079",
                                       "077", "081", "084", "088", "039", "090"};
static const char *const trades[] = {"nem chua",
                                     "chè lam",
                                     "bánh gai",
                                     "mắm tép",
                                     "chiếu cói",
                                     "mật ong",
                                     "gạo nếp cái hoa vàng",
                                     "cam Vân Du",
                                     "bưởi Luận Văn",
                                     "dưa lưới",
                                     "thổ cẩm",
                                     "rượu men lá"};
static const char *const places[] = {"thôn Đông",  "thôn Tây",   "xóm Mới",  "bản Lặn",
                                     "phố Lê Lợi", "thôn Trung", "làng Chè", "khu phố 3"};

#define N(a) (sizeof a / sizeof a[0])

static unsigned long mix(unsigned long x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdUL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53UL;
    x ^= x >> 33;
    return x;
}

void timport_row(size_t i, unsigned serial, const char *const *communes, size_t ncommunes,
                 char cells[TIMP__COLS][TIMP_CELL])
{
    unsigned long h = mix((unsigned long)i * 2654435761UL + serial);
    int female = (int)(h & 1);
    int year = 1966 + (int)((h >> 8) % 41); /* 1966..2006: every owner at least 18 */
    int month = 1 + (int)((h >> 16) % 12), day = 1 + (int)((h >> 20) % 28);
    snprintf(cells[TIMP_NAME], TIMP_CELL, "%s %s %s", family[(h >> 24) % N(family)],
             female ? "Thị" : middle[(h >> 28) % N(middle)], given[(h >> 32) % N(given)]);
    int centdig = (year >= 2000 ? 2 : 0) + female;
    /* 038 = Thanh Hóa; digits 5-10 made from i and serial so IDs never repeat */
    snprintf(cells[TIMP_CCCD], TIMP_CELL, "038%d%02d%06lu", centdig, year % 100,
             (unsigned long)((i + (size_t)serial * 7919) % 1000000));
    snprintf(cells[TIMP_PHONE], TIMP_CELL, "%s%07lu", prefixes[(h >> 36) % N(prefixes)],
             (unsigned long)((h >> 40) % 10000000));
    snprintf(cells[TIMP_BIRTH], TIMP_CELL, "%02d/%02d/%04d", day, month, year);
    snprintf(cells[TIMP_COMMUNE], TIMP_CELL, "%s",
             ncommunes ? communes[(h >> 44) % ncommunes] : "14797");
    snprintf(cells[TIMP_ADDRESS], TIMP_CELL, "Số %lu, %s", (unsigned long)(h >> 48) % 200 + 1,
             places[(h >> 52) % N(places)]);
    snprintf(cells[TIMP_BUSINESS], TIMP_CELL, "Cơ sở %s %s", trades[(h >> 56) % N(trades)],
             given[(h >> 4) % N(given)]);
    snprintf(cells[TIMP_EPAY], TIMP_CELL, "%s", (h >> 60) & 1 ? "có" : "không");
    snprintf(cells[TIMP_CONSENT], TIMP_CELL, "có");
}

int timport_csv_field(cs_buf *out, const char *v, char sep)
{
    if (!strchr(v, sep) && !strchr(v, '"') && !strchr(v, '\n') && !strchr(v, '\r'))
        return cs_buf_puts(out, v);
    if (cs_buf_putc(out, '"')) return -1;
    for (const char *p = v; *p; p++)
        if ((*p == '"' && cs_buf_putc(out, '"')) || cs_buf_putc(out, *p)) return -1;
    return cs_buf_putc(out, '"');
}

int timport_csv_line(cs_buf *out, const char *const *cells, size_t n, char sep)
{
    for (size_t k = 0; k < n; k++)
        if ((k && cs_buf_putc(out, sep)) || timport_csv_field(out, cells[k], sep)) return -1;
    return cs_buf_puts(out, "\r\n");
}
