# Tessera widget texts: zh-CN. Every message of en.ftl must be here.

widget-title = 登录
sign-in = 登录
sign-in-with = 通过 { $provider } 继续
signing-in = 正在登录…
signed-in = 您已登录
sign-out = 退出登录
privacy-note = 本店只能看到一个化名，永远看不到您的姓名或邮箱。
error-idp-unavailable = 无法连接登录服务，请稍后重试。
error-cancelled = 登录已取消。
error-state-mismatch = 无法验证此次登录，请重新开始。
error-clock-skew = 您设备的时钟似乎不准确，请校正后重试。
error-configuration = 本店的登录设置不正确。
error-generic = 出现问题，请重试。
error-session-expired = 您的会话已结束。请重新登录。
error-popup-blocked = 登录窗口被拦截。请允许此网站的弹出窗口后重试。
dismiss = 关闭
