"""The pages a person opens outside the chat (secure forms, approvals): the listener, the Host guard, the page shell
and the POST rule they share."""
