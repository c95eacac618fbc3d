"""Who someone is: accounts, passwords, sign-in and its tokens, the resolved caller (``Actor``),
and erasing an account for good."""
