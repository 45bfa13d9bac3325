/* connectors/voso: voso.vn (Viettel Post) — an assisted marketplace: no public seller API, so no
 * HTTP operations but the link check. Sellers are "nhà cung cấp (NCC)" and register at the
 * seller centre mc.voso.vn. */
#include "connectors/assisted.h"
#include "connectors/registry.h"

static const char *const steps[] = {
    "Mở trang dành cho nhà cung cấp https://mc.voso.vn và chọn «Đăng ký».",
    "Đăng ký bằng số điện thoại di động của chủ hộ, nhập mã OTP.",
    "Khai thông tin nhà cung cấp (NCC) theo bảng dưới đây; tải ảnh 2 mặt CCCD (và giấy chứng "
    "nhận đăng ký hộ kinh doanh nếu có).",
    "Khai kho/địa chỉ lấy hàng và tài khoản nhận tiền đứng tên chủ hộ.",
    "Khi gian hàng được duyệt, sao chép đường dẫn gian hàng (https://voso.vn/…) và xác nhận trên "
    "Chợ Số.",
    "Đăng từng sản phẩm theo bảng tải lên; xác nhận đường dẫn từng sản phẩm trên Chợ Số.",
    NULL};

static const char *const notes[] = {
    "Người bán phải xác nhận mỗi đơn hàng trong 24 giờ, nếu không đơn sẽ bị huỷ.",
    "Mã vận đơn của voso bắt đầu bằng «VOSO».", NULL};

static const char *const gone[] = {"Sản phẩm không tồn tại", "Không tìm thấy sản phẩm",
                                   "Sản phẩm đã ngừng kinh doanh", NULL};

static const cx_assisted info = {
    .signup_url = "https://mc.voso.vn",
    .seller_word = "Nhà cung cấp (NCC)",
    .steps = steps,
    .notes = notes,
    .layout_file = "upload_layout_voso.csv",
    .gone_markers = gone,
};

static int build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    return cx_assisted_build(&cx_voso, op, in, req, err);
}

static void parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_assisted_parse(&cx_voso, op, in, resp, out);
}

const cx_connector cx_voso = {
    .code = "voso",
    .alias = NULL,
    .display_name = "voso.vn",
    .kind = CX_KIND_FILE,
    .default_domain = "voso.vn",
    .display_order = 2,
    .ops = CX_OPBIT(CX_OP_LINK_CHECK),
    .build = build,
    .parse = parse,
    .verify_push = NULL,
    .assisted = &info,
};
