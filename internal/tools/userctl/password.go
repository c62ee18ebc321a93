package userctl

// password.go reads a new user's password: prompted for without echo on a
// terminal, else the first line of the input. Passwords never come from a
// flag (they would show in ps and shell history) and are never printed.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// MaxPasswordBytes bounds a password read from a non-terminal input.
const MaxPasswordBytes = 1024

// ReadPassword reads the password: prompted for twice without echo if in is
// a terminal (the prompts go to prompt), else the first line of in (a
// trailing "\r\n" or "\n" removed). An empty password is refused.
func ReadPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(f, prompt)
	}
	line, err := bufio.NewReaderSize(in, MaxPasswordBytes+2).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("password on stdin longer than %d bytes", MaxPasswordBytes)
		}
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if pass == "" {
		return "", errors.New("empty password refused (give it as the first line of stdin)")
	}
	if len(pass) > MaxPasswordBytes {
		return "", fmt.Errorf("password on stdin longer than %d bytes", MaxPasswordBytes)
	}
	return pass, nil
}

// promptPassword asks for the password twice on the terminal f.
func promptPassword(f *os.File, prompt io.Writer) (string, error) {
	read := func(what string) (string, error) {
		fmt.Fprint(prompt, what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	p1, err := read("Password: ")
	if err != nil {
		return "", err
	}
	p2, err := read("Password again: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errors.New("the passwords differ")
	}
	if p1 == "" {
		return "", errors.New("empty password refused")
	}
	return p1, nil
}
