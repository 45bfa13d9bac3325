/* connectors/postmart: postmart.vn (Vietnam Post) — an assisted marketplace: no public seller
 * API, so no HTTP operations but the link check. Code "postmart"; "posmart" (the spelling in
 * the province's plan) is accepted as an alias; people see "postmart.vn". */
#include "connectors/assisted.h"
#include "connectors/registry.h"

static const char *const steps[] = {
    "Mở https://postmart.vn (hoặc ứng dụng Postmart, mã com.postmart) và chọn «Đăng ký bán hàng».",
    "Đăng ký tài khoản bằng số điện thoại di động của chủ hộ, nhập mã OTP.",
    "Khai thông tin người bán theo bảng dưới đây; tải ảnh 2 mặt CCCD (và giấy chứng nhận đăng ký "
    "hộ kinh doanh nếu có).",
    "Khai địa chỉ lấy hàng và tài khoản nhận tiền đứng tên chủ hộ.",
    "Khi cửa hàng được duyệt, sao chép đường dẫn cửa hàng (https://postmart.vn/…) và xác nhận "
    "trên Chợ Số.",
    "Đăng từng sản phẩm theo bảng tải lên; xác nhận đường dẫn từng sản phẩm trên Chợ Số.",
    NULL};

static const char *const notes[] = {
    "Sàn của Tổng công ty Bưu điện Việt Nam; bưu cục địa phương có thể hỗ trợ đăng ký và lấy hàng.",
    "Ưu tiên sản phẩm OCOP và đặc sản địa phương: ghi rõ số sao OCOP và nơi sản xuất.", NULL};

static const char *const gone[] = {"Sản phẩm không tồn tại", "Không tìm thấy sản phẩm",
                                   "Gian hàng không tồn tại", NULL};

static const cx_assisted info = {
    .signup_url = "https://postmart.vn",
    .seller_word = "Người bán",
    .steps = steps,
    .notes = notes,
    .layout_file = "upload_layout_postmart.csv",
    .gone_markers = gone,
};

static int build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    return cx_assisted_build(&cx_postmart, op, in, req, err);
}

static void parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_assisted_parse(&cx_postmart, op, in, resp, out);
}

const cx_connector cx_postmart = {
    .code = "postmart",
    .alias = "posmart",
    .display_name = "postmart.vn",
    .kind = CX_KIND_FILE,
    .default_domain = "postmart.vn",
    .display_order = 1,
    .ops = CX_OPBIT(CX_OP_LINK_CHECK),
    .build = build,
    .parse = parse,
    .verify_push = NULL,
    .assisted = &info,
};
